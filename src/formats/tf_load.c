/*
 * tf_load.c - the TF GraphDef entry of the model format table (formats/formats.h): frozen graphs
 * (formats/tf_graphdef.c) have no magic bytes, so sniff accepts a ".pb" name or bytes that parse
 * as a GraphDef; their image input may be left free ([1, ?, ?, C]), so the entry takes the input
 * size at load time (free_input) and ev_model_load_with_input passes it here.
 *
 * Extend: keep this entry in the TF component (it needs protobuf-c); formats.c refers to it.
 */
#include "formats/formats.h"
#include "formats/tf_graphdef.h"

static int tf_sniff(const uint8_t *bytes, size_t size, const char *what) {
    return ev_tf_graphdef_identify(bytes, size, what);
}

static ev_status tf_load(uint8_t *bytes, size_t size, const char *what, int height, int width,
                         ev_graph *g) {
    return ev_tf_graphdef_parse(bytes, size, what, height, width, g);
}

const ev_format ev_format_tf_graphdef = {"tf-graphdef", tf_sniff, tf_load, 1};
