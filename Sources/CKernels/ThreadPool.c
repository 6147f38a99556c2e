#include "CKernels.h"

#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <time.h>
#include <unistd.h>

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define relax() _mm_pause()
#elif defined(__aarch64__)
#define relax() __asm__ __volatile__("yield")
#else
#define relax() ((void)0)
#endif

// One job at a time runs on the pool: the submitting thread publishes it, wakes the
// workers, takes indices itself like any worker, and returns when every index has run.
//
// The job's fields are written only while no worker is inside a job: `generation` is odd
// while a job is being published, and the submitter waits for `inside` to drop to 0 after
// making it odd. A worker enters by incrementing `inside` and then checking that the
// generation it saw is still current; if it is not, it leaves without reading anything.
// Both sides use sequentially consistent operations, so at least one of them sees the
// other's write.
//
// A worker that finds no new job spins for a while (the next product of a training step
// usually comes within a fraction of a millisecond, and waking a sleeping thread costs tens
// of microseconds on a virtual machine), then sleeps on a condition variable.

enum { max_workers = 63 };
static const long long spin_nanoseconds = 200000;

static pthread_mutex_t submit_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_mutex_t sleep_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t wake_up = PTHREAD_COND_INITIALIZER;

static atomic_ulong generation;
static atomic_int inside;
static atomic_int sleepers;
static atomic_long next_index;
static atomic_long finished;
static _Atomic(ad_pool_job) job_function;
static _Atomic(void *) job_context;
static atomic_long job_iterations;
static atomic_int job_workers;

// Started workers, and whether starting one has failed (then no more are tried); written
// only under submit_lock.
static int started;
static int cannot_start;

// Waits for another thread to change something: spins, then also yields the core, so that
// a worker preempted in the middle of an index (more threads than free cores) gets to run.
static void wait_a_moment(int *spins) {
  relax();
  if (++*spins > 4096) sched_yield();
}

static long long now_nanoseconds(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (long long)t.tv_sec * 1000000000LL + t.tv_nsec;
}

// Runs indices of the current job until none is left.
static void take_indices(void) {
  const long iterations = atomic_load_explicit(&job_iterations, memory_order_relaxed);
  const ad_pool_job function = atomic_load_explicit(&job_function, memory_order_relaxed);
  void *context = atomic_load_explicit(&job_context, memory_order_relaxed);
  for (;;) {
    const long index = atomic_fetch_add(&next_index, 1);
    if (index >= iterations) return;
    function(context, index);
    atomic_fetch_add(&finished, 1);
  }
}

static void *worker_main(void *argument) {
  const int number = (int)(long)argument;  // 1, 2, …: the submitter is 0
  unsigned long seen = atomic_load(&generation);
  for (;;) {
    // Wait for a generation other than the one last handled, and even (published).
    unsigned long current = atomic_load(&generation);
    if (current == seen || (current & 1)) {
      const long long deadline = now_nanoseconds() + spin_nanoseconds;
      int spins = 0;
      for (;;) {
        current = atomic_load(&generation);
        if (current != seen && !(current & 1)) break;
        relax();
        if (++spins == 64) {
          spins = 0;
          if (now_nanoseconds() > deadline) break;
        }
      }
      if (current == seen || (current & 1)) {
        pthread_mutex_lock(&sleep_lock);
        atomic_fetch_add(&sleepers, 1);
        for (;;) {
          current = atomic_load(&generation);
          if (current != seen && !(current & 1)) break;
          pthread_cond_wait(&wake_up, &sleep_lock);
        }
        atomic_fetch_sub(&sleepers, 1);
        pthread_mutex_unlock(&sleep_lock);
      }
    }
    seen = current;
    atomic_fetch_add(&inside, 1);
    if (atomic_load(&generation) == current &&
        number < atomic_load_explicit(&job_workers, memory_order_relaxed))
      take_indices();
    atomic_fetch_sub(&inside, 1);
  }
  return NULL;
}

int ad_pool_run(long iterations, int threads, ad_pool_job job, void *context) {
  if (iterations < 2 || threads < 2 || pthread_mutex_trylock(&submit_lock) != 0) return 0;
  // No more threads than cores: a thread that waits for a core holds up the whole job.
  static long cores = 0;  // read and written under submit_lock
  if (cores == 0) cores = sysconf(_SC_NPROCESSORS_ONLN);
  if (cores > 0 && threads > cores) threads = (int)cores;
  if (threads > max_workers + 1) threads = max_workers + 1;
  if (threads < 2) {
    pthread_mutex_unlock(&submit_lock);
    return 0;
  }
  while (started < threads - 1 && !cannot_start) {
    pthread_t thread;
    pthread_attr_t attributes;
    pthread_attr_init(&attributes);
    pthread_attr_setdetachstate(&attributes, PTHREAD_CREATE_DETACHED);
    const int failed =
        pthread_create(&thread, &attributes, worker_main, (void *)(long)(started + 1));
    pthread_attr_destroy(&attributes);
    if (failed) {
      cannot_start = 1;
      break;
    }
    started += 1;
  }
  if (started == 0) {
    pthread_mutex_unlock(&submit_lock);
    return 0;
  }

  // Publish: odd generation, wait until no worker is inside, write, even generation.
  const unsigned long published = atomic_fetch_add(&generation, 1) + 2;
  int spins = 0;
  while (atomic_load(&inside) != 0) wait_a_moment(&spins);
  atomic_store_explicit(&job_function, job, memory_order_relaxed);
  atomic_store_explicit(&job_context, context, memory_order_relaxed);
  atomic_store_explicit(&job_iterations, iterations, memory_order_relaxed);
  atomic_store_explicit(&job_workers, threads, memory_order_relaxed);
  atomic_store(&next_index, 0);
  atomic_store(&finished, 0);
  atomic_store(&generation, published);
  if (atomic_load(&sleepers) > 0) {
    pthread_mutex_lock(&sleep_lock);
    pthread_cond_broadcast(&wake_up);
    pthread_mutex_unlock(&sleep_lock);
  }

  take_indices();
  spins = 0;
  while (atomic_load(&finished) < iterations) wait_a_moment(&spins);
  pthread_mutex_unlock(&submit_lock);
  return 1;
}
