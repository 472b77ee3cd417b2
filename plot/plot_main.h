/* plot_main.h - the `tinychar plot` program, and the piece of it that
 * training calls at every evaluation to redraw loss.svg. Programs only. */
#ifndef TINYCHAR_PLOT_MAIN_H
#define TINYCHAR_PLOT_MAIN_H

#include "../common/error.h"

/* `tinychar plot RUN_DIR`: writes RUN_DIR/loss.svg and RUN_DIR/embedding.svg. */
int plot_main(int argc, char **argv);

/* Reads RUN_DIR/metrics.csv and (atomically) rewrites RUN_DIR/loss.svg. */
int plot_write_loss(const char *run_dir, Error *err);

/* For the training loop: plot_write_loss, and on failure a warning on stderr
 * the first time only (*warned remembers; start it at 0). Training goes on
 * either way: a missing picture is no reason to lose a run. */
void plot_refresh_loss(const char *run_dir, int *warned);

#endif
