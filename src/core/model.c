/*
 * model.c - ev_model: a model file read into the graph IR, whatever its format; the accessors of
 * the public API, and ev_read_file.
 *
 * Loading (ev_model_load*) is the format table's dispatch in src/formats/formats.c: core knows
 * no format. To add a format, see src/formats/formats.h.
 */
#include "core/model.h"

#include "core/status.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define EV_MAX_MODEL_BYTES (2ull << 30)

ev_status ev_read_file(const char *path, uint8_t **data, size_t *size) {
    *data = NULL;
    *size = 0;
    if (!path || !*path) return EV_FAIL(EV_ERR_INVALID_ARG, "no file name given");
    FILE *f = fopen(path, "rb");
    if (!f) return EV_FAIL(EV_ERR_IO, "%s: cannot open: %s", path, strerror(errno));
    struct stat st;
    if (fstat(fileno(f), &st) != 0 || !S_ISREG(st.st_mode)) {
        fclose(f);
        return EV_FAIL(EV_ERR_IO, "%s: not a regular file", path);
    }
    if ((unsigned long long)st.st_size > EV_MAX_MODEL_BYTES) {
        fclose(f);
        return EV_FAIL(EV_ERR_FORMAT, "%s: file of %lld bytes is too large", path,
                       (long long)st.st_size);
    }
    size_t n = (size_t)st.st_size;
    uint8_t *buf = malloc(n ? n : 1);
    if (!buf) {
        fclose(f);
        return EV_FAIL(EV_ERR_NO_MEMORY, "%s: out of memory reading %zu bytes", path, n);
    }
    size_t got = n ? fread(buf, 1, n, f) : 0;
    int err = ferror(f);
    fclose(f);
    if (got != n || err) {
        free(buf);
        return EV_FAIL(EV_ERR_IO, "%s: read %zu of %zu bytes", path, got, n);
    }
    *data = buf;
    *size = n;
    return EV_OK;
}

void ev_model_free(ev_model *model) {
    if (!model) return;
    ev_graph_release(&model->graph);
    free(model);
}

int ev_model_num_inputs(const ev_model *m) { return m ? m->graph.num_inputs : 0; }
int ev_model_num_outputs(const ev_model *m) { return m ? m->graph.num_outputs : 0; }
int ev_model_num_ops(const ev_model *m) { return m ? m->graph.num_ops : 0; }
ev_preprocess ev_model_preprocess(const ev_model *m) {
    return m ? m->graph.preprocess : EV_PREPROCESS_DEFAULT;
}

ev_status ev_model_input_info(const ev_model *m, int i, ev_tensor_info *info) {
    if (!m || !info || i < 0 || i >= m->graph.num_inputs)
        return EV_FAIL(EV_ERR_INVALID_ARG, "model input %d does not exist", i);
    ev_tensor_describe(&m->graph.tensors[m->graph.inputs[i]], info);
    return EV_OK;
}

ev_status ev_model_output_info(const ev_model *m, int i, ev_tensor_info *info) {
    if (!m || !info || i < 0 || i >= m->graph.num_outputs)
        return EV_FAIL(EV_ERR_INVALID_ARG, "model output %d does not exist", i);
    ev_tensor_describe(&m->graph.tensors[m->graph.outputs[i]], info);
    return EV_OK;
}

const char *ev_model_op_name(const ev_model *m, int i) {
    if (!m || i < 0 || i >= m->graph.num_ops) return NULL;
    return m->graph.ops[i].name;
}
