/* Interleaved timing: side a for a slice, side b for a slice, and again,
 * so that a machine busy with other work slows both alike; the medians of
 * the rounds discard the slices that a burst of load hit. */
#include "config.h"
#include "bench.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define ROUNDS_MAX 64

volatile sig_atomic_t bench_interrupted;
#define THREADS_MAX 8

double bench_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Calls fn until the slice is over (or, for profiling runs, a fixed
 * number of times); at least one call. Returns ops/s, or -1 with *error
 * set when a call failed. */
static double slice_run(bench_fn fn, void *arg, double seconds, unsigned long iterations,
			uint32_t *error)
{
	double start = bench_now(), now;
	unsigned long n = 0;
	uint32_t err;

	do {
		err = fn(arg);
		if (err != 0) {
			*error = err;
			return -1;
		}
		n++;
		now = bench_now();
	} while (!bench_interrupted && (iterations > 0 ? n < iterations : now - start < seconds));
	return (double)n / (now - start);
}

struct start_gate {
	pthread_mutex_t lock;
	pthread_cond_t cond;
	bool open;
};

struct worker {
	pthread_t thread;
	struct start_gate *gate;
	bench_fn fn;
	void *arg;
	double seconds;
	unsigned long iterations;
	double rate;
	uint32_t error;
};

static void *worker_main(void *p)
{
	struct worker *w = p;

	pthread_mutex_lock(&w->gate->lock);
	while (!w->gate->open)
		pthread_cond_wait(&w->gate->cond, &w->gate->lock);
	pthread_mutex_unlock(&w->gate->lock);
	w->rate = slice_run(w->fn, w->arg, w->seconds, w->iterations, &w->error);
	return NULL;
}

/* Every thread runs its own slice, all released at once; the aggregate
 * rate is the sum of theirs, since they overlap. */
static double slice_run_threads(const struct bench_side *side, double seconds,
				unsigned long iterations, uint32_t *error)
{
	struct start_gate gate = { PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, false };
	struct worker w[THREADS_MAX];
	unsigned n = side->threads < THREADS_MAX ? side->threads : THREADS_MAX, i, started;
	double total = 0;

	for (started = 0; started < n; started++) {
		memset(&w[started], 0, sizeof w[started]);
		w[started].gate = &gate;
		w[started].fn = side->fn;
		w[started].arg = side->thread_args[started];
		w[started].seconds = seconds;
		w[started].iterations = iterations;
		if (pthread_create(&w[started].thread, NULL, worker_main, &w[started]) != 0)
			break;
	}
	pthread_mutex_lock(&gate.lock);
	gate.open = true;
	pthread_cond_broadcast(&gate.cond);
	pthread_mutex_unlock(&gate.lock);
	for (i = 0; i < started; i++) {
		pthread_join(w[i].thread, NULL);
		if (w[i].rate < 0) {
			*error = w[i].error;
			total = -1;
		} else if (total >= 0) {
			total += w[i].rate;
		}
	}
	if (started < n && total >= 0) {
		/* No thread to run on: report it as the host running out. */
		*error = 0x8009000EU;  /* NTE_NO_MEMORY */
		total = -1;
	}
	return total;
}

static double side_run(const struct bench_side *side, double seconds, unsigned long iterations,
		       uint32_t *error)
{
	if (side->threads > 1)
		return slice_run_threads(side, seconds, iterations, error);
	return slice_run(side->fn, side->arg, seconds, iterations, error);
}

static int double_cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static double median(double *v, unsigned n)
{
	qsort(v, n, sizeof *v, double_cmp);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

void bench_compare(const struct bench_params *params, const struct bench_side *a,
		   const struct bench_side *b, struct bench_result *out)
{
	double ra[ROUNDS_MAX], rb[ROUNDS_MAX];
	unsigned rounds = params->rounds < ROUNDS_MAX ? params->rounds : ROUNDS_MAX, i;
	uint32_t error = 0;

	memset(out, 0, sizeof *out);
	/* A short first pass of each warms caches, sessions and the token's
	 * object store; it is not counted. */
	if (side_run(a, params->slice_seconds / 4, params->iterations / 4, &error) < 0) {
		out->side = 'a';
		goto failed;
	}
	if (side_run(b, params->slice_seconds / 4, params->iterations / 4, &error) < 0) {
		out->side = 'b';
		goto failed;
	}
	for (i = 0; i < rounds && !bench_interrupted; i++) {
		ra[i] = side_run(a, params->slice_seconds, params->iterations, &error);
		if (ra[i] < 0) {
			out->side = 'a';
			goto failed;
		}
		rb[i] = side_run(b, params->slice_seconds, params->iterations, &error);
		if (rb[i] < 0) {
			out->side = 'b';
			goto failed;
		}
	}
	if (bench_interrupted) {
		out->side = 'a';
		goto failed;
	}
	out->median_a = median(ra, rounds);
	out->median_b = median(rb, rounds);
	out->min_a = ra[0];
	out->max_a = ra[rounds - 1];
	out->min_b = rb[0];
	out->max_b = rb[rounds - 1];
	return;
failed:
	out->failed = true;
	out->error = error;
}
