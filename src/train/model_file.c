/*
 * model_file.c - writes and reads RUN/model.json (format in model_file.h). Written atomically;
 * read with cJSON, every field checked, so a damaged file is an EV_ERR_FORMAT naming the field.
 */
#include "train/model_file.h"

#include "core/status.h"
#include "train/fsutil.h"
#include "util/file.h"
#include "util/sbuf.h"

#include <cjson/cJSON.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

static void json_str(ev_sbuf *b, const char *s) {
    ev_sbuf_printf(b, "\"");
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\') ev_sbuf_printf(b, "\\%c", c);
        else if (c < 0x20) ev_sbuf_printf(b, "\\u%04x", c);
        else ev_sbuf_printf(b, "%c", c);
    }
    ev_sbuf_printf(b, "\"");
}

static void floats(ev_sbuf *b, const float *v, size_t n) {
    ev_sbuf_printf(b, "[");
    for (size_t i = 0; i < n; i++)
        ev_sbuf_printf(b, "%s%.9g", i ? (i % 16 ? "," : ",\n      ") : "", (double)v[i]);
    ev_sbuf_printf(b, "]");
}

ev_status ev_model_file_save(const char *path, const ev_model_meta *mm, const ev_mlp *m) {
    for (size_t i = 0; i < m->nparams; i++)
        if (!isfinite(m->params[i]))
            return EV_FAIL(EV_ERR_INVALID_ARG, "not saving %s: weight %zu is %g (training "
                           "diverged; lower the learning rate)", path, i, (double)m->params[i]);
    ev_sbuf b = {0};
    ev_sbuf_printf(&b, "{\n  \"format\": \"edgevision-head\",\n  \"version\": 1,\n");
    ev_sbuf_printf(&b, "  \"backbone\": {\n    \"path\": ");
    json_str(&b, mm->backbone_path);
    ev_sbuf_printf(&b, ",\n    \"sha1\": \"%s\",\n    \"cut\": ", mm->backbone_sha1);
    json_str(&b, mm->cut);
    ev_sbuf_printf(&b, ",\n    \"cut_is_output\": %s,\n    \"preprocessing\": ",
                   mm->cut_is_output ? "true" : "false");
    json_str(&b, mm->prep);
    ev_sbuf_printf(&b, ",\n    \"features\": %d\n  },\n  \"labels\": [", m->in_dim);
    json_str(&b, mm->labels[0]);
    ev_sbuf_printf(&b, ", ");
    json_str(&b, mm->labels[1]);
    ev_sbuf_printf(&b, "],\n  \"output\": \"sigmoid = P(label 1)\",\n");
    ev_sbuf_printf(&b, "  \"training\": %s,\n", mm->training_json[0] ? mm->training_json : "{}");
    ev_sbuf_printf(&b, "  \"head\": {\n    \"dropout\": %.9g,\n    \"layers\": [\n",
                   (double)m->dropout);
    for (int l = 0; l < m->nlayers; l++) {
        int in = l ? m->width[l - 1] : m->in_dim, out = m->width[l];
        ev_sbuf_printf(&b, "     {\"units\": %d, \"inputs\": %d, \"activation\": \"sigmoid\",\n"
                           "      \"kernel\": ", out, in);
        floats(&b, m->params + m->w_off[l], (size_t)in * (size_t)out);
        ev_sbuf_printf(&b, ",\n      \"bias\": ");
        floats(&b, m->params + m->b_off[l], (size_t)out);
        ev_sbuf_printf(&b, "}%s\n", l + 1 < m->nlayers ? "," : "");
    }
    ev_sbuf_printf(&b, "    ]\n  }\n}\n");
    ev_status st = ev_sbuf_save(&b, path);
    ev_sbuf_free(&b);
    return st;
}

static ev_status get_str(const cJSON *o, const char *key, char *out, size_t n, const char *path) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    if (!cJSON_IsString(v) || strlen(v->valuestring) >= n)
        return EV_FAIL(EV_ERR_FORMAT, "%s: '%s' is missing or not a string", path, key);
    snprintf(out, n, "%s", v->valuestring);
    return EV_OK;
}

static ev_status get_floats(const cJSON *arr, float *out, size_t n, const char *path,
                            const char *what, int layer) {
    if (!cJSON_IsArray(arr) || (size_t)cJSON_GetArraySize(arr) != n)
        return EV_FAIL(EV_ERR_FORMAT, "%s: layer %d: '%s' must be an array of %zu numbers", path,
                       layer + 1, what, n);
    size_t i = 0;
    const cJSON *e;
    cJSON_ArrayForEach(e, arr) {
        if (!cJSON_IsNumber(e))
            return EV_FAIL(EV_ERR_FORMAT, "%s: layer %d: %s[%zu] is not a number", path,
                           layer + 1, what, i);
        out[i++] = (float)e->valuedouble;
    }
    return EV_OK;
}

ev_status ev_model_file_load(const char *path, ev_model_meta *mm, ev_mlp *m) {
    memset(mm, 0, sizeof *mm);
    memset(m, 0, sizeof *m);
    char *text;
    EV_TRY(ev_read_text(path, &text, NULL));
    cJSON *root = cJSON_Parse(text);
    free(text);
    if (!root) return EV_FAIL(EV_ERR_FORMAT, "%s: not valid JSON", path);
    ev_status st = EV_OK;
    const cJSON *fmt = cJSON_GetObjectItemCaseSensitive(root, "format");
    const cJSON *ver = cJSON_GetObjectItemCaseSensitive(root, "version");
    const cJSON *bb = cJSON_GetObjectItemCaseSensitive(root, "backbone");
    const cJSON *labels = cJSON_GetObjectItemCaseSensitive(root, "labels");
    const cJSON *head = cJSON_GetObjectItemCaseSensitive(root, "head");
    const cJSON *layers = head ? cJSON_GetObjectItemCaseSensitive(head, "layers") : NULL;
    const cJSON *drop = head ? cJSON_GetObjectItemCaseSensitive(head, "dropout") : NULL;
    if (!cJSON_IsString(fmt) || strcmp(fmt->valuestring, "edgevision-head") != 0) {
        st = EV_FAIL(EV_ERR_FORMAT, "%s: not an edgevision head model (format is not "
                     "\"edgevision-head\")", path);
        goto done;
    }
    if (!cJSON_IsNumber(ver) || ver->valueint != 1) {
        st = EV_FAIL(EV_ERR_UNSUPPORTED, "%s: model format version %d (this build reads 1)", path,
                     cJSON_IsNumber(ver) ? ver->valueint : -1);
        goto done;
    }
    if (!cJSON_IsObject(bb) || !cJSON_IsArray(labels) || cJSON_GetArraySize(labels) != 2 ||
        !cJSON_IsArray(layers) || cJSON_GetArraySize(layers) < 1 ||
        cJSON_GetArraySize(layers) > EV_MLP_MAX_LAYERS) {
        st = EV_FAIL(EV_ERR_FORMAT, "%s: needs 'backbone', two 'labels' and 1..%d head layers",
                     path, EV_MLP_MAX_LAYERS);
        goto done;
    }
    EV_TRY_GOTO(st, get_str(bb, "path", mm->backbone_path, sizeof mm->backbone_path, path), done);
    EV_TRY_GOTO(st, get_str(bb, "sha1", mm->backbone_sha1, sizeof mm->backbone_sha1, path), done);
    EV_TRY_GOTO(st, get_str(bb, "cut", mm->cut, sizeof mm->cut, path), done);
    EV_TRY_GOTO(st, get_str(bb, "preprocessing", mm->prep, sizeof mm->prep, path), done);
    const cJSON *tr = cJSON_GetObjectItemCaseSensitive(root, "training");
    if (cJSON_IsObject(tr)) {
        char *t = cJSON_PrintUnformatted(tr);
        if (t) snprintf(mm->training_json, sizeof mm->training_json, "%s", t);
        free(t);
    }
    mm->cut_is_output = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(bb, "cut_is_output"));
    for (int k = 0; k < 2; k++) {
        const cJSON *l = cJSON_GetArrayItem(labels, k);
        if (!cJSON_IsString(l) || strlen(l->valuestring) >= sizeof mm->labels[k]) {
            st = EV_FAIL(EV_ERR_FORMAT, "%s: label %d is not a string", path, k);
            goto done;
        }
        snprintf(mm->labels[k], sizeof mm->labels[k], "%s", l->valuestring);
    }
    int nl = cJSON_GetArraySize(layers), hidden[EV_MLP_MAX_LAYERS], in_dim = 0;
    for (int l = 0; l < nl; l++) {
        const cJSON *ly = cJSON_GetArrayItem(layers, l);
        const cJSON *u = cJSON_GetObjectItemCaseSensitive(ly, "units");
        const cJSON *in = cJSON_GetObjectItemCaseSensitive(ly, "inputs");
        if (!cJSON_IsNumber(u) || !cJSON_IsNumber(in) || u->valueint < 1 || in->valueint < 1 ||
            (l == nl - 1 && u->valueint != 1) || (l > 0 && in->valueint != hidden[l - 1])) {
            st = EV_FAIL(EV_ERR_FORMAT, "%s: layer %d: 'units'/'inputs' missing or inconsistent "
                         "(the last layer has 1 unit)", path, l + 1);
            goto done;
        }
        /* Sizes come from the file: allocate only what its arrays really hold. */
        const cJSON *kern = cJSON_GetObjectItemCaseSensitive(ly, "kernel");
        const cJSON *bias = cJSON_GetObjectItemCaseSensitive(ly, "bias");
        uint64_t want = (uint64_t)in->valueint * (uint64_t)u->valueint;
        if (!cJSON_IsArray(kern) || !cJSON_IsArray(bias) ||
            (uint64_t)cJSON_GetArraySize(kern) != want ||
            cJSON_GetArraySize(bias) != u->valueint) {
            st = EV_FAIL(EV_ERR_FORMAT, "%s: layer %d: 'kernel' must hold %llu numbers (inputs %d x "
                         "units %d) and 'bias' %d", path, l + 1, (unsigned long long)want,
                         in->valueint, u->valueint, u->valueint);
            goto done;
        }
        if (l == 0) in_dim = in->valueint;
        hidden[l] = u->valueint;
    }
    EV_TRY_GOTO(st, ev_mlp_create(m, in_dim, hidden, nl - 1,
                                  cJSON_IsNumber(drop) ? (float)drop->valuedouble : 0.0f), done);
    for (int l = 0; l < nl; l++) {
        const cJSON *ly = cJSON_GetArrayItem(layers, l);
        int in = l ? m->width[l - 1] : in_dim;
        EV_TRY_GOTO(st, get_floats(cJSON_GetObjectItemCaseSensitive(ly, "kernel"),
                                   m->params + m->w_off[l], (size_t)in * (size_t)m->width[l],
                                   path, "kernel", l), done);
        EV_TRY_GOTO(st, get_floats(cJSON_GetObjectItemCaseSensitive(ly, "bias"),
                                   m->params + m->b_off[l], (size_t)m->width[l], path, "bias", l),
                    done);
    }
done:
    cJSON_Delete(root);
    if (st != EV_OK) ev_mlp_free(m);
    return st;
}

ev_status ev_model_file_locate(const char *run, char **path) {
    *path = NULL;
    if (!run) return EV_FAIL(EV_ERR_INVALID_ARG, "no model given");
    char *p = ev_tr_is_dir(run) ? ev_tr_join(run, "model.json") : strdup(run);
    if (!p) return EV_FAIL(EV_ERR_NO_MEMORY, "out of memory");
    if (!ev_tr_is_file(p)) {
        ev_status st = EV_FAIL(EV_ERR_IO, "%s: no saved model (expected a run folder with "
                               "model.json, as 'edgevision train' writes)", p);
        free(p);
        return st;
    }
    *path = p;
    return EV_OK;
}
