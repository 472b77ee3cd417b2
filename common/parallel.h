/* parallel.h - how a pass shares its work among threads.
 *
 * Entering an OpenMP parallel region costs about a microsecond and a half
 * here, and half of one even when its if clause is false (libgomp still
 * sets up, and takes down, a team of one thread). A character of sampling
 * takes about two microseconds and a step of a small model a few hundred,
 * so the model opens one region for its whole forward pass and one for its
 * whole backward pass (model.c), and a pass too small for threads outside
 * them enters no region at all.
 *
 * So each pass keeps its loops in a function of its own, written as
 * orphaned worksharing loops (`#pragma omp for`), ranges of its own
 * (thread_range), or, for a pass that must run serially, an orphaned
 * `#pragma omp single`; and it is run through PARALLEL_CALL. Inside a
 * region every thread of it calls the pass with the same arguments, which
 * name shared memory: the loops' iterations are shared out among them, and
 * a barrier ends the pass (about 0.6 microseconds), so the next pass may
 * read all of its result. Outside one, the pass opens its own region if
 * worth it, else the calling thread runs every iteration. A pass returns
 * its results only through that shared memory: code outside its loops runs
 * on every thread, so it may read shared memory but not write it. */
#ifndef TINYCHAR_PARALLEL_H
#define TINYCHAR_PARALLEL_H

#ifdef _OPENMP
#include <omp.h>
#endif

/* Whether the caller runs inside a parallel region of more than one
 * thread, where a pass is shared out among the region's threads. */
static inline int in_parallel(void)
{
#ifdef _OPENMP
    return omp_in_parallel();
#else
    return 0;
#endif
}

/* Whether work (values, multiply-adds: the caller's unit) of at least min
 * is there, and more than one thread to share it. */
static inline int parallel_worth(long work, long min)
{
#ifdef _OPENMP
    return work >= min && omp_get_max_threads() > 1;
#else
    (void)work;
    (void)min;
    return 0;
#endif
}

/* This thread's number and the number of threads sharing the work: 0 and 1
 * outside a parallel region (and without OpenMP), for loops that split
 * their work by hand. */
static inline int thread_id(void)
{
#ifdef _OPENMP
    return omp_get_thread_num();
#else
    return 0;
#endif
}

static inline int thread_count(void)
{
#ifdef _OPENMP
    return omp_get_num_threads();
#else
    return 1;
#endif
}

/* [*lo, *hi): this thread's share of n items cut at multiples of align
 * (16 floats: no two threads write one cache line), in thread order; all
 * of them outside a parallel region. */
static inline void thread_range(long n, long align, long *lo, long *hi)
{
    long units = (n + align - 1) / align, id = thread_id(), nt = thread_count();
    *lo = units * id / nt * align;
    *hi = units * (id + 1) / nt * align;
    if (*hi > n)
        *hi = n;
    if (*lo > n)
        *lo = n;
}

/* Runs the pass (a statement) on the threads of the caller's region, then
 * waits for all of them; outside a region, on every thread of a new one if
 * worth, else on the calling thread alone. Either way the whole result is
 * there when it returns, so the loops inside may skip their own closing
 * barrier (nowait). */
#define PARALLEL_CALL(worth, call)        \
    do {                                  \
        if (in_parallel()) {              \
            call;                         \
            _Pragma("omp barrier")        \
        } else if (worth) {               \
            _Pragma("omp parallel")       \
            call;                         \
        } else {                          \
            call;                         \
        }                                 \
    } while (0)

#endif
