/*
 * bbcount.c - a qemu-user TCG plugin (benchmark tooling, not a test): counts how often every
 * translated block executes and, at exit, writes one line per executed block to a file:
 *
 *     COUNT NINSNS HEX HEX ...        (HEX = one instruction's bytes, in memory order)
 *
 * Blocks are keyed by their bytes (FNV-1a over the instruction bytes), not by address, so the
 * same code executed at another address (another process, another mapping) lands on the same
 * line and two runs can be subtracted block by block (bench/arm/estimate.py does that, then
 * disassembles each hot block and asks llvm-mca for its steady-state cycles). Counting is one
 * inline 64-bit add per block execution (no helper call): about 5% over plain qemu.
 *
 * Usage: qemu-aarch64 -plugin bench/arm/work/libbbcount.so,out=FILE [-cpu ...] PROGRAM ARGS
 * Build: bench/arm/setup.sh (needs only Debian qemu's include/qemu/qemu-plugin.h).
 * Limits: the counters are plain adds, exact for one guest thread (the benchmark's setting);
 * with several threads executing the same block concurrently a few counts may be lost. A block
 * left early (a fault) counts as executed whole.
 * Extend: another per-block figure (memory accesses, say) is a second inline op registered next
 * to the count in tb_trans() and a second column in dump().
 */
#include <qemu-plugin.h>

#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

QEMU_PLUGIN_EXPORT int qemu_plugin_version = QEMU_PLUGIN_VERSION;

typedef struct block {
    uint64_t key;
    uint64_t count;    /* bumped by the generated code */
    uint32_t n_insns;
    uint32_t n_bytes;
    uint8_t *bytes;    /* n_bytes bytes */
    uint8_t *lens;     /* n_insns instruction lengths */
} block;

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static block **table;  /* open addressing, pointers stay valid when the table grows */
static size_t cap, used;
static char out_path[4096] = "bbcount.out";

static uint64_t fnv1a(const uint8_t *p, size_t n, uint64_t h) {
    for (size_t i = 0; i < n; i++) h = (h ^ p[i]) * 0x100000001b3ull;
    return h;
}

static void grow(void) {
    size_t ncap = cap ? cap * 2 : 1 << 16;
    block **nt = calloc(ncap, sizeof *nt);
    if (!nt) abort();
    for (size_t i = 0; i < cap; i++) {
        if (!table[i]) continue;
        size_t j = table[i]->key & (ncap - 1);
        while (nt[j]) j = (j + 1) & (ncap - 1);
        nt[j] = table[i];
    }
    free(table);
    table = nt;
    cap = ncap;
}

/* Returns the block with these bytes, creating it; called with the lock held. */
static block *lookup(const uint8_t *bytes, const uint8_t *lens, uint32_t n_insns, uint32_t n_bytes) {
    uint64_t key = fnv1a(bytes, n_bytes, 0xcbf29ce484222325ull ^ n_insns);
    if (2 * (used + 1) > cap) grow();
    size_t j = key & (cap - 1);
    for (; table[j]; j = (j + 1) & (cap - 1)) {
        block *b = table[j];
        if (b->key == key && b->n_insns == n_insns && b->n_bytes == n_bytes &&
            !memcmp(b->bytes, bytes, n_bytes) && !memcmp(b->lens, lens, n_insns))
            return b;
    }
    block *b = calloc(1, sizeof *b);
    b->bytes = malloc(n_bytes ? n_bytes : 1);
    b->lens = malloc(n_insns ? n_insns : 1);
    if (!b || !b->bytes || !b->lens) abort();
    memcpy(b->bytes, bytes, n_bytes);
    memcpy(b->lens, lens, n_insns);
    b->key = key, b->n_insns = n_insns, b->n_bytes = n_bytes;
    table[j] = b;
    used++;
    return b;
}

static void tb_trans(qemu_plugin_id_t id, struct qemu_plugin_tb *tb) {
    (void)id;
    size_t n = qemu_plugin_tb_n_insns(tb), nb = 0;
    for (size_t i = 0; i < n; i++) nb += qemu_plugin_insn_size(qemu_plugin_tb_get_insn(tb, i));
    uint8_t *bytes = malloc(nb ? nb : 1), *lens = malloc(n ? n : 1);
    if (!bytes || !lens) abort();
    size_t off = 0;
    for (size_t i = 0; i < n; i++) {
        struct qemu_plugin_insn *insn = qemu_plugin_tb_get_insn(tb, i);
        size_t sz = qemu_plugin_insn_size(insn);
        memcpy(bytes + off, qemu_plugin_insn_data(insn), sz);
        lens[i] = (uint8_t)sz;
        off += sz;
    }
    pthread_mutex_lock(&lock);
    block *b = lookup(bytes, lens, (uint32_t)n, (uint32_t)nb);
    pthread_mutex_unlock(&lock);
    free(bytes);
    free(lens);
    qemu_plugin_register_vcpu_tb_exec_inline(tb, QEMU_PLUGIN_INLINE_ADD_U64, &b->count, 1);
}

static void dump(qemu_plugin_id_t id, void *p) {
    (void)id, (void)p;
    FILE *f = fopen(out_path, "w");
    if (!f) {
        fprintf(stderr, "bbcount: cannot write %s\n", out_path);
        return;
    }
    uint64_t insns = 0;
    for (size_t i = 0; i < cap; i++) {
        block *b = table[i];
        if (!b || !b->count) continue;
        insns += b->count * b->n_insns;
        fprintf(f, "%llu %u", (unsigned long long)b->count, b->n_insns);
        const uint8_t *q = b->bytes;
        for (uint32_t k = 0; k < b->n_insns; k++) {
            fputc(' ', f);
            for (uint32_t m = 0; m < b->lens[k]; m++) fprintf(f, "%02x", q[m]);
            q += b->lens[k];
        }
        fputc('\n', f);
    }
    fprintf(f, "# total_insns %llu blocks %zu\n", (unsigned long long)insns, used);
    fclose(f);
}

QEMU_PLUGIN_EXPORT int qemu_plugin_install(qemu_plugin_id_t id, const qemu_info_t *info, int argc,
                                           char **argv) {
    (void)info;
    for (int i = 0; i < argc; i++) {
        if (!strncmp(argv[i], "out=", 4)) {
            snprintf(out_path, sizeof out_path, "%s", argv[i] + 4);
        } else {
            fprintf(stderr, "bbcount: unknown option '%s' (out=FILE)\n", argv[i]);
            return -1;
        }
    }
    pthread_mutex_lock(&lock);
    grow();
    pthread_mutex_unlock(&lock);
    qemu_plugin_register_vcpu_tb_trans_cb(id, tb_trans);
    qemu_plugin_register_atexit_cb(id, dump, NULL);
    return 0;
}
