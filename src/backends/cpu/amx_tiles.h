/*
 * amx_tiles.h - the one AMX tile configuration the cpu backend's AMX GEMMs use (gemm_amx.c: int8,
 * gemm_f32_amx.c: the split float line): palette 1, tiles tmm0-7 each 16 rows of 64 bytes (16
 * int32 / float accumulators, 64 u8 or 32 bfloat16 of A, 16 k groups of B). Include only from
 * files compiled with -mamx-tile (the *_amx.c suffix, CMakeLists.txt). Loaded at the entry of
 * every call, released at its exit: a call never leaves tile state behind for the thread.
 *
 * Extend: another shape is another function beside this one.
 */
#ifndef EV_BACKENDS_CPU_AMX_TILES_H
#define EV_BACKENDS_CPU_AMX_TILES_H

#include <immintrin.h>
#include <stdint.h>
#include <string.h>

typedef struct ev_amx_tile_config {
    uint8_t palette, start_row, reserved[14];
    uint16_t colsb[16];
    uint8_t rows[16];
} ev_amx_tile_config;

/* tmm0-7: 16 rows x 64 bytes. */
static inline void ev_amx_tiles_16x64(void) {
    ev_amx_tile_config cfg __attribute__((aligned(64)));
    memset(&cfg, 0, sizeof cfg);
    cfg.palette = 1;
    for (int t = 0; t < 8; t++) {
        cfg.rows[t] = 16;
        cfg.colsb[t] = 64;
    }
    _tile_loadconfig(&cfg);
}

#endif
