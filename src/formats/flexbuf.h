/*
 * flexbuf.h - a bounds-checked reader for FlexBuffer maps (TFLite custom-op options).
 *
 * Only what custom options use: a root map whose values are scalars (int, uint, float, bool,
 * their indirect forms) or strings. Every read is checked against the buffer.
 */
#ifndef EV_FORMATS_FLEXBUF_H
#define EV_FORMATS_FLEXBUF_H

#include "edgevision.h"

#include <stddef.h>
#include <stdint.h>

typedef enum flex_kind { FLEX_ABSENT = 0, FLEX_INT, FLEX_UINT, FLEX_FLOAT, FLEX_BOOL, FLEX_OTHER } flex_kind;

typedef struct flex_value {
    flex_kind kind;
    int64_t i;  /* FLEX_INT, FLEX_BOOL                                       */
    uint64_t u; /* FLEX_UINT                                                 */
    double f;   /* FLEX_FLOAT                                                */
} flex_value;

/* Looks up `key` in the root map of `buf`. EV_ERR_FORMAT when the buffer is malformed (not when
 * the key is absent: then value->kind == FLEX_ABSENT). */
ev_status flex_map_lookup(const uint8_t *buf, size_t n, const char *key, flex_value *value);

/* Numeric value as double (int/uint/float/bool), or `def` when absent/not numeric. */
double flex_as_double(const flex_value *v, double def);

#endif
