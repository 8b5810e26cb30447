/*
 * contact_sheet.c - a grid of thumbnails as one PNG (see report.h): 112x112 cells, 10 per
 * row, in the order given (misclassified.tsv lists the same order). Each thumbnail is framed
 * red when the model said label 1 for a label-0 image, blue for the opposite, and sits over a
 * bar filled (green) to the probability of label 1, with a black tick at 0.5. Unreadable images
 * leave a grey cell. An empty list gives a small grey image, so the file always exists.
 */
#include "train/report.h"

#include "core/status.h"

#include <stdio.h>
#include <string.h>

#define THUMB 96
#define PAD 8
#define BAR 8
#define CELL_W (THUMB + 2 * PAD)
#define CELL_H (THUMB + 2 * PAD + BAR)
#define COLS 10

static void fill(uint8_t *px, int w, int x0, int y0, int x1, int y1, const uint8_t rgb[3]) {
    for (int y = y0; y < y1; y++)
        for (int x = x0; x < x1; x++) memcpy(px + ((size_t)y * (size_t)w + (size_t)x) * 3, rgb, 3);
}

ev_status ev_contact_sheet(const char *const *paths, const float *p, const int *labels, int n,
                           int max, const char *out_png) {
    if (n > max) n = max;
    int cols = n < COLS ? (n ? n : 1) : COLS, rows = n ? (n + COLS - 1) / COLS : 1;
    int W = cols * CELL_W, H = rows * CELL_H;
    static const uint8_t white[3] = {255, 255, 255}, grey[3] = {200, 200, 200},
                         red[3] = {220, 30, 30}, blue[3] = {30, 90, 220},
                         green[3] = {40, 170, 60}, light[3] = {225, 225, 225},
                         black[3] = {0, 0, 0};
    ev_image *sheet = NULL;
    uint8_t *buf = malloc((size_t)W * (size_t)H * 3);
    if (!buf) return EV_FAIL(EV_ERR_NO_MEMORY, "out of memory for a %dx%d contact sheet", W, H);
    fill(buf, W, 0, 0, W, H, n ? white : grey);
    for (int i = 0; i < n; i++) {
        int cx = (i % COLS) * CELL_W, cy = (i / COLS) * CELL_H;
        fill(buf, W, cx + 2, cy + 2, cx + CELL_W - 2, cy + THUMB + 2 * PAD - 2,
             labels[i] ? blue : red);
        ev_image *img = NULL, *th = NULL;
        if (ev_image_load(paths[i], &img) == EV_OK &&
            ev_image_resize(img, THUMB, THUMB, EV_RESIZE_BILINEAR, &th) == EV_OK) {
            const uint8_t *t = ev_image_pixels(th);
            for (int y = 0; y < THUMB; y++)
                memcpy(buf + ((size_t)(cy + PAD + y) * (size_t)W + (size_t)(cx + PAD)) * 3,
                       t + (size_t)y * THUMB * 3, THUMB * 3);
        } else {
            fill(buf, W, cx + PAD, cy + PAD, cx + PAD + THUMB, cy + PAD + THUMB, grey);
            ev_clear_error();
        }
        ev_image_free(img);
        ev_image_free(th);
        int by = cy + THUMB + 2 * PAD, bw = (int)(p[i] * THUMB + 0.5f);
        fill(buf, W, cx + PAD, by, cx + PAD + THUMB, by + BAR - 2, light);
        fill(buf, W, cx + PAD, by, cx + PAD + bw, by + BAR - 2, green);
        fill(buf, W, cx + PAD + THUMB / 2, by - 1, cx + PAD + THUMB / 2 + 1, by + BAR - 1, black);
    }
    ev_status st = ev_image_create(W, H, buf, &sheet);
    free(buf);
    if (st != EV_OK) return st;
    st = ev_image_save(sheet, out_png); /* atomic: PATH.tmp renamed into place */
    ev_image_free(sheet);
    return st;
}
