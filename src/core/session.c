/*
 * session.c - ev_session: a model prepared on one backend, with its memory planned once.
 *
 * Create: build the backend's context (backend->init), ask it which kernel runs every op (or the
 * host custom-op table), prepare each, plan activation memory into one arena. Run: the backend's
 * run_begin, ops in graph order with no allocation (calling the per-op callback if one is set),
 * run_end. Fused pairs (core/backend.h) run as one op when no callback is set. Free: release every op, then the backend's context.
 */
#include "core/session.h"

#include "core/backend.h"
#include "core/model.h"
#include "core/plan.h"
#include "core/status.h"
#include "core/threadpool.h"
#include "util/clock.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Activation memory one session may plan: $EV_MEMORY_CAP_MB, default 4096 MiB. Files can
 * declare any tensor size; this refuses absurd ones before allocating. */
size_t ev_memory_cap(void) {
    const char *s = getenv("EV_MEMORY_CAP_MB");
    long long mb = s && *s ? atoll(s) : 4096;
    if (mb <= 0) mb = 4096;
    if ((unsigned long long)mb > (unsigned long long)(SIZE_MAX >> 20)) return SIZE_MAX; /* 32-bit */
    return (size_t)mb << 20;
}

/* $EV_FLOAT_MODES: mode names, comma-separated ("winograd", "bf16"; others ignored). */
static unsigned float_modes_env(void) {
    const char *e = getenv("EV_FLOAT_MODES");
    unsigned m = 0;
    if (!e) return 0;
    if (strstr(e, "winograd")) m |= EV_FLOAT_WINOGRAD;
    if (strstr(e, "bf16")) m |= EV_FLOAT_BF16;
    return m;
}

void ev_session_options_init(ev_session_options *o) {
    memset(o, 0, sizeof *o);
    o->backend = "ref";
    o->threads = 1;
}

static ev_kernel_ctx kernel_ctx(const ev_session *s, int i) {
    ev_kernel_ctx ctx = {s->graph, i, s->pool, s->backend_ctx, s->ops[i].backend_name,
                         s->ops[i].absorbs, 0};
    return ctx;
}

static ev_status prepare_ops(ev_session *s) {
    const ev_graph *g = s->graph;
    snprintf(s->ref_name, sizeof s->ref_name, "%s (reference kernel)", s->backend->name);
    for (int i = 0; i < g->num_ops; i++) s->ops[i].absorbed_by = -1;
    for (int i = 0; i < g->num_ops; i++) {
        const ev_op *op = &g->ops[i];
        ev_prepared_op *p = &s->ops[i];
        ev_kernel_choice ch = {0};
        if (op->type == EV_OP_CUSTOM) {
            ch.kernel = ev_custom_kernel(op->custom_code);
            if (!ch.kernel)
                return EV_FAIL(EV_ERR_UNSUPPORTED,
                               "%s: op %d: custom op '%s' is not supported by backend %s (no "
                               "implementation)", g->source, i, op->name, s->backend->name);
            p->backend_name = "host";
        } else {
            s->backend->supports(s->backend_ctx, g, i, &ch);
            if (!ch.kernel)
                return EV_FAIL(EV_ERR_UNSUPPORTED, "%s: op %d (%s) is not supported by backend "
                               "%s%s%s", g->source, i, op->name, s->backend->name,
                               ch.why ? ": " : "", ch.why ? ch.why : "");
            p->backend_name = ch.reference ? s->ref_name : s->backend->name;
        }
        p->kernel = ch.kernel;
        p->kernel_name = ch.name ? ch.name : ch.kernel->name;
        p->reference = ch.reference;
        /* A fusion partner: a later op nobody else absorbs (ignored otherwise). */
        if (ch.absorbs > i && ch.absorbs < g->num_ops && s->ops[ch.absorbs].absorbed_by < 0 &&
            g->ops[ch.absorbs].type != EV_OP_CUSTOM) {
            p->absorbs = ch.absorbs;
            s->ops[ch.absorbs].absorbed_by = i;
        }
        ev_kernel_ctx ctx = kernel_ctx(s, i);
        ev_status st = ch.kernel->prepare(&ctx, &p->state);
        if (st != EV_OK) {
            ev_error_prefix("%s", g->source);
            return st;
        }
    }
    return EV_OK;
}

/* "auto": the fastest compiled backend that starts here and runs every op of the model, in
 * the order of k_auto_order (cuda needs a device; cpu runs anything ref does, faster or through
 * the reference kernels). Each candidate is a whole session creation, so "runs every op" means
 * exactly what ev_session_create checks. The last candidate's error is returned when none
 * takes the model. */
static const char *const k_auto_order[] = {"cuda", "cpu", "ref"};

static int backend_compiled(const char *name) {
    for (const char *const *b = ev_backend_names(); *b; b++)
        if (strcmp(*b, name) == 0) return 1;
    return 0;
}

static ev_status create_auto(const ev_model *model, const ev_session_options *o,
                             ev_session **out) {
    ev_status st = EV_ERR_UNSUPPORTED;
    int tried = 0;
    for (size_t i = 0; i < sizeof k_auto_order / sizeof k_auto_order[0]; i++) {
        if (!backend_compiled(k_auto_order[i])) continue;
        ev_session_options c = *o;
        c.backend = k_auto_order[i];
        if (tried) ev_clear_error();
        tried++;
        st = ev_session_create(model, &c, out);
        if (st == EV_OK) return EV_OK;
    }
    if (!tried) return EV_FAIL(EV_ERR_INTERNAL, "backend auto: no backend compiled in");
    ev_error_prefix("backend auto: no compiled backend runs this model here; the last tried");
    return st;
}

ev_status ev_session_create(const ev_model *model, const ev_session_options *opts,
                            ev_session **out) {
    if (!model || !out) return EV_FAIL(EV_ERR_INVALID_ARG, "ev_session_create: NULL argument");
    *out = NULL;
    ev_session_options o;
    ev_session_options_init(&o);
    if (opts) o = *opts;
    if (!o.backend) o.backend = "ref";
    if (strcmp(o.backend, "auto") == 0) return create_auto(model, &o, out);
    if (o.threads <= 0) o.threads = 1;
    if (!o.float_modes) o.float_modes = float_modes_env();
    const ev_backend *be;
    EV_TRY(ev_backend_get(o.backend, &be));
    ev_session *s = calloc(1, sizeof *s);
    if (!s) return EV_FAIL(EV_ERR_NO_MEMORY, "out of memory");
    s->model = model;
    s->graph = &model->graph;
    s->backend = be;
    s->opts = o;
    const ev_graph *g = s->graph;
    s->ops = calloc((size_t)g->num_ops + 1, sizeof *s->ops);
    s->data = calloc((size_t)g->num_tensors + 1, sizeof *s->data);
    size_t *offsets = calloc((size_t)g->num_tensors + 1, sizeof *offsets);
    int *written_early = NULL;
    ev_status st = EV_OK;
    if (!s->ops || !s->data || !offsets) {
        st = EV_FAIL(EV_ERR_NO_MEMORY, "out of memory");
        goto fail;
    }
    for (int i = 0; i < g->num_inputs; i++)
        if (g->tensors[g->inputs[i]].dtype == EV_DTYPE_UNKNOWN) {
            st = EV_FAIL(EV_ERR_UNSUPPORTED, "%s: input %d '%s' has an unsupported type",
                         g->source, i, g->tensors[g->inputs[i]].name);
            goto fail;
        }
    if (o.threads > 1) EV_TRY_GOTO(st, ev_threadpool_create(o.threads, &s->pool), fail);
    if (be->init) {
        ev_backend_options bo = {o.threads, o.isa, s->pool, o.float_modes};
        st = be->init(g, &bo, &s->backend_ctx);
        if (st != EV_OK) {
            ev_error_prefix("%s: backend %s", g->source, be->name);
            goto fail;
        }
    }
    EV_TRY_GOTO(st, prepare_ops(s), fail);
    /* Every op has a kernel; state kept between runs (variable tensors) is not planned. */
    for (int i = 0; i < g->num_ops; i++)
        for (int k = 0; k < g->ops[i].num_inputs; k++) {
            int t = g->ops[i].inputs[k];
            if (t >= 0 && g->tensors[t].variable && !g->tensors[t].data) {
                st = EV_FAIL(EV_ERR_UNSUPPORTED, "%s: op %d (%s) reads variable tensor %d '%s' "
                             "(state kept between runs), which sessions do not support",
                             g->source, i, g->ops[i].name, t, g->tensors[t].name);
                goto fail;
            }
        }
    written_early = malloc(sizeof(int) * ((size_t)g->num_ops + 1));
    if (!written_early) {
        st = EV_FAIL(EV_ERR_NO_MEMORY, "out of memory");
        goto fail;
    }
    for (int i = 0; i < g->num_ops; i++) { /* a chain (j absorbed by i, k by j) runs at i */
        int w = s->ops[i].absorbed_by;
        while (w >= 0 && s->ops[w].absorbed_by >= 0) w = s->ops[w].absorbed_by;
        written_early[i] = w;
    }
    EV_TRY_GOTO(st, ev_plan_memory(g, written_early, offsets, &s->arena_size,
                                   &s->unplanned_size), fail);
    size_t cap = ev_memory_cap();
    if (s->arena_size > cap) {
        st = EV_FAIL(EV_ERR_NO_MEMORY, "%s: activations need %.1f MiB, over the memory cap of "
                     "%.1f MiB (set EV_MEMORY_CAP_MB to raise it)", g->source,
                     s->arena_size / 1048576.0, cap / 1048576.0);
        goto fail;
    }
    /* EV_PLAN_ALIGN bytes of slack: kernels may read a few bytes past a tensor (whole 4-byte
     * groups of a row) and multiply them by zero weights. */
    s->arena = aligned_alloc(EV_PLAN_ALIGN, s->arena_size + EV_PLAN_ALIGN);
    if (!s->arena) {
        st = EV_FAIL(EV_ERR_NO_MEMORY, "out of memory: activation arena of %zu bytes",
                     s->arena_size);
        goto fail;
    }
    memset(s->arena, 0, s->arena_size + EV_PLAN_ALIGN);
    for (int t = 0; t < g->num_tensors; t++) {
        if (g->tensors[t].data)
            s->data[t] = (void *)g->tensors[t].data;
        else if (offsets[t] != EV_PLAN_NONE)
            s->data[t] = s->arena + offsets[t];
    }
    free(offsets);
    free(written_early);
    *out = s;
    return EV_OK;
fail:
    free(offsets);
    free(written_early);
    ev_session_free(s);
    return st;
}

void ev_session_free(ev_session *s) {
    if (!s) return;
    if (s->ops)
        for (int i = 0; i < s->graph->num_ops; i++)
            if (s->ops[i].kernel && s->ops[i].kernel->release && s->ops[i].state)
                s->ops[i].kernel->release(s->ops[i].state);
    if (s->backend_ctx && s->backend->free) s->backend->free(s->backend_ctx);
    free(s->ops);
    free(s->op_times);
    ev_threadpool_free(s->pool);
    free(s->data);
    free(s->arena);
    free(s);
}

ev_status ev_session_set_input(ev_session *s, int index, const void *data, size_t bytes) {
    if (!s || !data) return EV_FAIL(EV_ERR_INVALID_ARG, "ev_session_set_input: NULL argument");
    if (index < 0 || index >= s->graph->num_inputs)
        return EV_FAIL(EV_ERR_INVALID_ARG, "input %d does not exist (model has %d)", index,
                       s->graph->num_inputs);
    int t = s->graph->inputs[index];
    const ev_tensor *ten = &s->graph->tensors[t];
    if (bytes != ten->bytes) {
        char shape[64];
        return EV_FAIL(EV_ERR_SHAPE, "input %d '%s' (%s %s) takes %zu bytes, got %zu", index,
                       ten->name, ev_shape_str(ten, shape, sizeof shape),
                       ev_dtype_name(ten->dtype), ten->bytes, bytes);
    }
    memcpy(s->data[t], data, bytes);
    return EV_OK;
}

ev_status ev_session_run(ev_session *s) {
    if (!s) return EV_FAIL(EV_ERR_INVALID_ARG, "ev_session_run: NULL session");
    const ev_graph *g = s->graph;
    double run_t0 = s->op_times ? ev_clock_s() : 0;
    if (s->backend->run_begin) EV_TRY(s->backend->run_begin(s->backend_ctx, s->data, s->cb != NULL));
    ev_status st = EV_OK;
    /* Fused pairs run as one op unless a callback must see every op's output. */
    const int fuse = s->cb == NULL;
    for (int i = 0; i < g->num_ops && st == EV_OK; i++) {
        ev_kernel_ctx ctx = kernel_ctx(s, i);
        double t0 = s->op_times ? ev_clock_s() : 0;
        if (fuse && s->ops[i].absorbed_by >= 0) { /* computed by its fused predecessor */
            if (s->op_times) s->op_times[2 * i] = t0 - run_t0, s->op_times[2 * i + 1] = 0;
            continue;
        }
        ctx.fused = fuse && s->ops[i].absorbs > 0;
        st = s->ops[i].kernel->run(&ctx, s->ops[i].state, s->data);
        if (s->op_times) {
            double t1 = ev_clock_s();
            s->op_times[2 * i] = t0 - run_t0;
            s->op_times[2 * i + 1] = t1 - t0;
        }
        if (st != EV_OK || !s->cb) continue;
        const ev_op *op = &g->ops[i];
        int t = op->num_outputs ? op->outputs[0] : -1;
        if (t < 0) continue;
        ev_tensor_info info;
        ev_tensor_describe(&g->tensors[t], &info);
        if (s->cb(s->cb_user, i, op->name, &info, s->data[t]))
            st = EV_FAIL(EV_ERR_INVALID_ARG, "run aborted by the op callback after op %d (%s)", i,
                         op->name);
    }
    if (s->backend->run_end) {
        ev_status end = s->backend->run_end(s->backend_ctx, s->data, st == EV_OK);
        if (st == EV_OK) st = end;
    }
    return st;
}

ev_status ev_session_output(ev_session *s, int index, const void **data, ev_tensor_info *info) {
    if (!s) return EV_FAIL(EV_ERR_INVALID_ARG, "ev_session_output: NULL session");
    if (index < 0 || index >= s->graph->num_outputs)
        return EV_FAIL(EV_ERR_INVALID_ARG, "output %d does not exist (model has %d)", index,
                       s->graph->num_outputs);
    int t = s->graph->outputs[index];
    if (data) *data = s->data[t];
    if (info) ev_tensor_describe(&s->graph->tensors[t], info);
    return EV_OK;
}

void ev_session_set_op_callback(ev_session *s, ev_op_callback cb, void *user) {
    if (!s) return;
    s->cb = cb;
    s->cb_user = user;
}

ev_status ev_session_set_profiling(ev_session *s, int on) {
    if (!s) return EV_FAIL(EV_ERR_INVALID_ARG, "ev_session_set_profiling: NULL session");
    if (!on) {
        free(s->op_times);
        s->op_times = NULL;
        return EV_OK;
    }
    if (!s->op_times) {
        s->op_times = calloc(2 * (size_t)s->graph->num_ops + 2, sizeof *s->op_times);
        if (!s->op_times) return EV_FAIL(EV_ERR_NO_MEMORY, "out of memory");
    }
    return EV_OK;
}

ev_status ev_session_op_time(const ev_session *s, int index, double *start_s, double *seconds) {
    if (!s) return EV_FAIL(EV_ERR_INVALID_ARG, "ev_session_op_time: NULL session");
    if (!s->op_times)
        return EV_FAIL(EV_ERR_INVALID_ARG, "ev_session_op_time: profiling is off "
                       "(ev_session_set_profiling)");
    if (index < 0 || index >= s->graph->num_ops)
        return EV_FAIL(EV_ERR_INVALID_ARG, "op %d does not exist (model has %d)", index,
                       s->graph->num_ops);
    if (start_s) *start_s = s->op_times[2 * index];
    if (seconds) *seconds = s->op_times[2 * index + 1];
    return EV_OK;
}

void ev_session_memory(const ev_session *s, size_t *planned, size_t *unplanned) {
    if (planned) *planned = s ? s->arena_size : 0;
    if (unplanned) *unplanned = s ? s->unplanned_size : 0;
}

const char *ev_session_backend_name(const ev_session *s) {
    return s ? s->backend->name : NULL;
}

int ev_session_threads(const ev_session *s) { return s ? s->opts.threads : 0; }

const char *ev_session_kernel_name(const ev_session *s, int index, int *reference) {
    if (reference) *reference = 0;
    if (!s || index < 0 || index >= s->graph->num_ops) return NULL;
    if (reference) *reference = s->ops[index].reference;
    return s->ops[index].kernel_name;
}
