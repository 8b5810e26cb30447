/*
 * broadcast.h - NumPy broadcasting of two inputs for the reference backend's binary ops (ADD in
 * ref_add.c; SUB, MUL, DIV, FLOOR_DIV in ref_binary.c): shapes aligned on the right, each input
 * dimension 1 or the output's, and the output exactly the broadcast shape. The geometry is
 * computed once at prepare (element strides, 0 where an input is broadcast); EV_BCAST_WALK then
 * visits every output element in row-major order with both inputs' offsets.
 *
 * Extend: a new binary op keeps an ev_bcast in its state and writes only its element function.
 */
#ifndef EV_BACKENDS_REF_BROADCAST_H
#define EV_BACKENDS_REF_BROADCAST_H

#include "core/graph.h"

#include <stddef.h>

typedef struct ev_bcast {
    int ndim;
    int dims[EV_MAX_DIMS];                   /* the output's                                   */
    size_t sa[EV_MAX_DIMS], sb[EV_MAX_DIMS]; /* element strides, 0 where broadcast             */
} ev_bcast;

static inline int ev_bcast_strides_(const ev_tensor *t, const ev_tensor *out, size_t *st) {
    int off = out->ndim - t->ndim;
    if (off < 0) return 0;
    size_t stride = 1;
    for (int d = out->ndim - 1; d >= 0; d--) {
        int td = d - off;
        int n = td >= 0 ? t->dims[td] : 1;
        if (n != out->dims[d] && n != 1) return 0;
        st[d] = n == 1 ? 0 : stride;
        stride *= (size_t)n;
    }
    return 1;
}

/* Fills `bc` for out = a (op) b; 0 when a and b do not broadcast exactly to out's shape. */
static inline int ev_bcast_init(ev_bcast *bc, const ev_tensor *a, const ev_tensor *b,
                                const ev_tensor *out) {
    bc->ndim = out->ndim;
    for (int d = 0; d < out->ndim; d++) bc->dims[d] = out->dims[d];
    int ok = ev_bcast_strides_(a, out, bc->sa) && ev_bcast_strides_(b, out, bc->sb);
    /* the output must be exactly the broadcast shape: some input reaches each output dim */
    for (int d = 0; ok && d < out->ndim; d++) {
        int da = d - (out->ndim - a->ndim), db = d - (out->ndim - b->ndim);
        int na = da >= 0 ? a->dims[da] : 1, nb = db >= 0 ? b->dims[db] : 1;
        if ((na == 1 ? nb : na) != out->dims[d]) ok = 0;
    }
    return ok;
}

/* Runs BODY for every output element with ia, ib (input offsets) and io (output offset). */
#define EV_BCAST_WALK(bc, BODY)                                                                   \
    do {                                                                                          \
        const ev_bcast *bc_ = (bc);                                                               \
        int idx_[EV_MAX_DIMS] = {0};                                                              \
        size_t oa_ = 0, ob_ = 0, total_ = 1;                                                      \
        for (int d_ = 0; d_ < bc_->ndim; d_++) total_ *= (size_t)bc_->dims[d_];                   \
        for (size_t o_ = 0; o_ < total_; o_++) {                                                  \
            const size_t ia = oa_, ib = ob_, io = o_;                                             \
            BODY;                                                                                 \
            for (int d_ = bc_->ndim - 1; d_ >= 0; d_--) {                                         \
                oa_ += bc_->sa[d_];                                                               \
                ob_ += bc_->sb[d_];                                                               \
                if (++idx_[d_] < bc_->dims[d_]) break;                                            \
                oa_ -= bc_->sa[d_] * (size_t)bc_->dims[d_];                                       \
                ob_ -= bc_->sb[d_] * (size_t)bc_->dims[d_];                                       \
                idx_[d_] = 0;                                                                     \
            }                                                                                     \
        }                                                                                         \
    } while (0)

#endif
