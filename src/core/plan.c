/*
 * plan.c - greedy-by-size activation memory planning (the strategy of TFLite's ArenaPlanner).
 *
 * Each activation tensor lives from the op that produces it (graph inputs: from the start) to
 * the last op that reads it (graph outputs: to the end). Tensors are placed largest first, each
 * at the lowest aligned offset that overlaps no already placed tensor whose lifetime overlaps
 * its own. An op's inputs and outputs are alive together at that op, so never alias, with one
 * exception: a same-shape ADD writes its output over an input it reads for the last time, the
 * older one where both qualify (an elementwise op reads each element before it writes it:
 * ResNet's residual ADDs, fused into the conv before them, then read the shortcut and write the
 * sum in the same cache lines, instead of reading one tensor and allocating another). An op
 * whose outputs an earlier op may write (a fused epilogue) has them alive from that op.
 */
#include "core/plan.h"

#include "core/status.h"

#include <string.h>

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    int t;
    int first, last;
    uint64_t size, off; /* 64-bit: sums of sizes must not wrap on 32-bit builds */
} item;

static int by_size_desc(const void *a, const void *b) {
    const item *x = a, *y = b;
    if (x->size != y->size) return x->size < y->size ? 1 : -1;
    return x->t - y->t;
}

static int by_off(const void *a, const void *b) {
    const item *x = *(const item *const *)a, *y = *(const item *const *)b;
    return x->off < y->off ? -1 : x->off > y->off;
}

static uint64_t align_up(uint64_t n) {
    return (n + EV_PLAN_ALIGN - 1) & ~(uint64_t)(EV_PLAN_ALIGN - 1);
}

ev_status ev_plan_memory(const ev_graph *g, const int *written_early, size_t *offsets,
                         size_t *arena, size_t *unplanned) {
    int n = g->num_tensors;
    int *first = malloc(sizeof(int) * (size_t)(n ? n : 1));
    int *last = malloc(sizeof(int) * (size_t)(n ? n : 1));
    item *items = malloc(sizeof(item) * (size_t)(n ? n : 1));
    item **placed = malloc(sizeof(item *) * (size_t)(n ? n : 1));
    if (!first || !last || !items || !placed) {
        free(first), free(last), free(items), free(placed);
        return EV_FAIL(EV_ERR_NO_MEMORY, "out of memory planning %d tensors", n);
    }
    for (int i = 0; i < n; i++) {
        first[i] = INT32_MAX;
        last[i] = -2;
        offsets[i] = EV_PLAN_NONE;
    }
    for (int i = 0; i < g->num_inputs; i++) {
        first[g->inputs[i]] = -1;
        if (last[g->inputs[i]] < -1) last[g->inputs[i]] = -1;
    }
    for (int o = 0; o < g->num_ops; o++) {
        const ev_op *op = &g->ops[o];
        int w = written_early && written_early[o] >= 0 && written_early[o] < o ? written_early[o] : o;
        for (int i = 0; i < op->num_outputs; i++) {
            int t = op->outputs[i];
            if (first[t] > w) first[t] = w;
            if (last[t] < o) last[t] = o;
        }
        for (int i = 0; i < op->num_inputs; i++) {
            int t = op->inputs[i];
            if (t < 0) continue;
            if (last[t] < o) last[t] = o;
            if (first[t] > o) first[t] = o; /* read before written: keep it alive from here */
        }
    }
    for (int i = 0; i < g->num_outputs; i++) last[g->outputs[i]] = g->num_ops;
    /* In-place ADD: output t takes the bytes of input r (the opening comment). r: not a
     * constant or graph input, of t's type and dimensions (no broadcast, the other input too),
     * its bytes (r's, or those r itself took over) read here for the last time and first
     * written no later than t; when an earlier op writes t (a fused epilogue, from first[t]),
     * no op from there to the ADD reads r (a fused depthwise reading r's neighbourhood while
     * t's rows overwrite it would read clobbered rows). The pair becomes one item: root[]
     * names the tensor whose item holds the bytes, alive from its first op to t's last. */
    int *root = malloc(sizeof(int) * (size_t)(n ? n : 1));
    if (!root) {
        free(first), free(last), free(items), free(placed);
        return EV_FAIL(EV_ERR_NO_MEMORY, "out of memory planning %d tensors", n);
    }
    for (int i = 0; i < n; i++) root[i] = i;
    for (int o = 0; o < g->num_ops; o++) {
        const ev_op *op = &g->ops[o];
        if (op->type != EV_OP_ADD || op->num_inputs != 2 || op->num_outputs != 1) continue;
        const int t = op->outputs[0];
        if (t < 0 || g->tensors[t].data || root[t] != t || first[t] < 0) continue;
        /* the older operand first: with a fused epilogue the newer one (the conv's own
         * output) is never written, so taking its bytes would save nothing */
        const int i0 = op->inputs[0], i1 = op->inputs[1];
        const int older = i0 >= 0 && i1 >= 0 && first[root[i1]] < first[root[i0]] ? 1 : 0;
        for (int kk = 0; kk < 2; kk++) {
            const int k = kk ? 1 - older : older;
            const int r = op->inputs[k], other = op->inputs[1 - k];
            if (r < 0 || other < 0 || r == other || r == t || g->tensors[r].data) continue;
            const int q = root[r];
            if (first[q] < 0 || last[q] != o || first[q] > first[t]) continue;
            const ev_tensor *a = &g->tensors[r], *b = &g->tensors[other], *c = &g->tensors[t];
            if (a->dtype != c->dtype || a->bytes != c->bytes || a->ndim != c->ndim ||
                b->ndim != c->ndim || memcmp(a->dims, c->dims, sizeof(int) * (size_t)c->ndim) ||
                memcmp(b->dims, c->dims, sizeof(int) * (size_t)c->ndim))
                continue;
            int read_early = 0;
            for (int e = first[t]; e < o && !read_early; e++)
                for (int i = 0; i < g->ops[e].num_inputs; i++)
                    if (g->ops[e].inputs[i] == r) read_early = 1;
            if (read_early) continue;
            root[t] = q;
            last[q] = last[t];
            break;
        }
    }
    int m = 0;
    uint64_t total = 0;
    for (int t = 0; t < n; t++) {
        if (g->tensors[t].data || last[t] < -1 || root[t] != t) continue;
        items[m].t = t;
        items[m].first = first[t];
        items[m].last = last[t];
        items[m].size = align_up(g->tensors[t].bytes ? g->tensors[t].bytes : 1);
        total += items[m].size;
        m++;
    }
    qsort(items, (size_t)m, sizeof(item), by_size_desc);
    uint64_t arena_size = 0;
    int np = 0;
    for (int i = 0; i < m; i++) {
        item *it = &items[i];
        uint64_t off = 0;
        /* placed[] is kept sorted by offset: walk it, jumping past every live conflict. */
        for (int j = 0; j < np; j++) {
            item *p = placed[j];
            if (p->last < it->first || p->first > it->last) continue;
            if (off + it->size <= p->off) break;
            if (p->off + p->size > off) off = p->off + p->size;
        }
        it->off = off;
        placed[np++] = it;
        qsort(placed, (size_t)np, sizeof(item *), by_off);
        if (off + it->size > arena_size) arena_size = off + it->size;
        offsets[it->t] = (size_t)off; /* unused when the arena does not fit, below */
    }
    for (int t = 0; t < n; t++)
        if (root[t] != t) offsets[t] = offsets[root[t]];
    free(first), free(last), free(items), free(placed), free(root);
    if (arena_size > (uint64_t)SIZE_MAX - EV_PLAN_ALIGN || total > (uint64_t)SIZE_MAX)
        return EV_FAIL(EV_ERR_NO_MEMORY, "%s: activations need %.1f MiB, more than this "
                       "platform can address", g->source ? g->source : "model",
                       (double)arena_size / 1048576.0);
    *arena = (size_t)arena_size;
    if (unplanned) *unplanned = (size_t)total;
    return EV_OK;
}
