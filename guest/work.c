/* Worker processes: start, the loops of the work types, measurement, stop. */
#include "work.h"

#include "cgroup.h"
#include "fsutil.h"
#include "xalloc.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/futex.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* Rounds of arithmetic between two progress marks of a spinning worker.
 * They took about 5 us on one x86 core (an estimate from a native run), and
 * TCG is several times slower, so a gap of a millisecond is still visible. */
#define SPIN_ROUNDS 4000
/* IoSync rewrites the blocks of a file this large, 4 KiB at a time. */
#define IO_FILE_BLOCKS 256
#define IO_BLOCK 4096
/* How often a worker waiting on its partner checks the end of the run. */
#define PARTNER_POLL_MS 50

struct worker {
	struct work_shared *shared;
	bool ext_policy;
	struct worker_slot *slot;
	struct worker_slot *pair;     /* first slot of its pair (paired types) */
	struct worker_slot *partner;
	const struct cgroup_spec *cg;
	bool leader;                  /* first of a pair */
	bool finished;                /* the partner is gone: leave the loop */
	int in_fd, out_fd;            /* PipeIo */
	int io_fd;                    /* IoSync */
	unsigned char *buffer;        /* CachePressure, IoSync */
	size_t buffer_size;
	size_t position;
	uint64_t round;
	uint64_t phase_start_ns;      /* Bursty: start of the current burst */
	struct cpulist allowed;       /* AffinityChurn */
	unsigned next_cpu;
	uint64_t sink;                /* keeps the spin loop's result alive */
};

uint64_t work_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static long futex(uint32_t *word, int op, uint32_t value, const struct timespec *timeout)
{
	return syscall(SYS_futex, word, op, value, timeout, NULL, 0);
}

static void futex_wake_all(uint32_t *word)
{
	futex(word, FUTEX_WAKE, INT_MAX, NULL);
}

struct work_shared *work_shared_new(size_t nr_workers)
{
	size_t size = sizeof(struct work_shared) + nr_workers * sizeof(struct worker_slot);
	struct work_shared *shared =
		mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);

	if (shared == MAP_FAILED) {
		fprintf(stderr, "ktstr-guest: cannot map %zu bytes for %zu workers: %s\n", size,
			nr_workers, strerror(errno));
		return NULL;
	}
	memset(shared, 0, size);
	shared->nr_workers = nr_workers;
	for (size_t i = 0; i < nr_workers; i++) {
		shared->slots[i].last_cpu = -1;
		shared->slots[i].max_gap_cpu = -1;
	}
	return shared;
}

void work_shared_free(struct work_shared *shared)
{
	if (shared)
		munmap(shared, sizeof(*shared) + shared->nr_workers * sizeof(struct worker_slot));
}

/* Parse "name: value" or "name value" counters out of a /proc text. */
static bool proc_field(const char *text, const char *name, uint64_t *out)
{
	size_t len = strlen(name);

	for (const char *line = text; line && *line; line = strchr(line, '\n'), line = line ? line + 1 : NULL) {
		if (strncmp(line, name, len) != 0)
			continue;
		const char *p = line + len;
		if (*p != ' ' && *p != '\t' && *p != ':')
			continue;
		p += strspn(p, " \t:");
		char *end;
		unsigned long long value = strtoull(p, &end, 10);
		if (end == p)
			return false;
		*out = value;
		return true;
	}
	return false;
}

int work_read_proc(pid_t pid, struct worker_slot *slot)
{
	char dir[32], path[64];
	char *text;
	unsigned long long run, delay, slices;
	int status = 0;

	if (pid)
		snprintf(dir, sizeof(dir), "/proc/%d", (int)pid);
	else
		snprintf(dir, sizeof(dir), "/proc/self");

	snprintf(path, sizeof(path), "%s/schedstat", dir);
	text = fs_read_file(path, NULL);
	if (text && sscanf(text, "%llu %llu %llu", &run, &delay, &slices) == 3) {
		slot->cpu_time_ns = run;
		slot->run_delay_ns = delay;
		slot->timeslices = slices;
	} else {
		status = -1;
	}
	free(text);

	/* se.nr_migrations is in /proc/<pid>/sched; kernels built without
	 * its debug interface lack the file, so the count of CPU changes seen
	 * at progress marks replaces it. */
	snprintf(path, sizeof(path), "%s/sched", dir);
	text = fs_read_file(path, NULL);
	slot->migrations_known = text && proc_field(text, "se.nr_migrations", &slot->migrations);
	slot->policy_known = text && proc_field(text, "policy", &slot->policy);
	free(text);

	snprintf(path, sizeof(path), "%s/status", dir);
	text = fs_read_file(path, NULL);
	if (text) {
		proc_field(text, "voluntary_ctxt_switches", &slot->voluntary_switches);
		proc_field(text, "nonvoluntary_ctxt_switches", &slot->involuntary_switches);
	}
	free(text);
	return status;
}

/* Account the time since the last mark as time runnable or running. */
static void note_gap(struct worker *w, uint64_t now)
{
	struct worker_slot *slot = w->slot;
	uint64_t last = slot->last_ns;

	if (last && now > last && now - last > slot->max_gap_ns) {
		slot->max_gap_ns = now - last;
		slot->max_gap_at_ns = now - w->shared->start_ns;
		slot->max_gap_cpu = sched_getcpu();
	}
}

/* One unit of work done: count it, note the gap since the previous mark and
 * the CPU it ran on. */
static void mark_progress(struct worker *w)
{
	struct worker_slot *slot = w->slot;
	uint64_t now = work_now_ns();
	int cpu = sched_getcpu();

	note_gap(w, now);
	__atomic_store_n(&slot->last_ns, now, __ATOMIC_RELAXED);
	__atomic_store_n(&slot->iterations, slot->iterations + 1, __ATOMIC_RELAXED);
	if (cpu >= 0) {
		cpulist_add(&slot->cpus, (unsigned)cpu);
		if (slot->last_cpu >= 0 && cpu != slot->last_cpu)
			slot->cpu_changes++;
		slot->last_cpu = cpu;
	}
}

/* Before sleeping on purpose: the time asleep is no gap. */
static void pause_progress(struct worker *w)
{
	note_gap(w, work_now_ns());
	__atomic_store_n(&w->slot->last_ns, 0, __ATOMIC_RELAXED);
}

static void resume_progress(struct worker *w)
{
	__atomic_store_n(&w->slot->last_ns, work_now_ns(), __ATOMIC_RELAXED);
}

static bool run_over(struct worker *w)
{
	return w->finished || __atomic_load_n(&w->shared->stop, __ATOMIC_RELAXED) ||
	       work_now_ns() >= w->shared->end_ns;
}

static void spin(struct worker *w, unsigned rounds)
{
	uint64_t x = w->sink | 1;

	for (unsigned i = 0; i < rounds; i++)
		x = x * 6364136223846793005ull + 1442695040888963407ull;
	w->sink = x;
}

static void sleep_us(struct worker *w, uint64_t us)
{
	struct timespec ts = { (time_t)(us / 1000000), (long)(us % 1000000) * 1000 };

	pause_progress(w);
	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
	resume_progress(w);
}

static void step_mixed(struct worker *w)
{
	spin(w, SPIN_ROUNDS);
	w->round++;
	if (w->round % 16 == 0)
		sleep_us(w, 200);
	else if (w->round % 4 == 0)
		sched_yield();
}

static void step_io_sync(struct worker *w)
{
	off_t offset = (off_t)(w->position % IO_FILE_BLOCKS) * IO_BLOCK;

	w->buffer[w->position % IO_BLOCK]++;
	if (pwrite(w->io_fd, w->buffer, IO_BLOCK, offset) != IO_BLOCK || fdatasync(w->io_fd) != 0)
		w->finished = true;
	w->position++;
}

static void step_bursty(struct worker *w)
{
	uint64_t now = work_now_ns();

	spin(w, SPIN_ROUNDS);
	if (now - w->phase_start_ns >= (uint64_t)w->cg->burst_ms * 1000000ull) {
		sleep_us(w, (uint64_t)w->cg->sleep_ms * 1000);
		w->phase_start_ns = work_now_ns();
	}
}

/* One byte each way; the leader sends first.  EOF or EPIPE means the partner
 * left, which ends this worker too. */
static void step_pipe_io(struct worker *w)
{
	char byte = 'k';

	if (w->leader && write(w->out_fd, &byte, 1) != 1) {
		w->finished = true;
		return;
	}
	pause_progress(w);
	ssize_t got = read(w->in_fd, &byte, 1);
	resume_progress(w);
	if (got != 1) {
		w->finished = true;
		return;
	}
	if (!w->leader && write(w->out_fd, &byte, 1) != 1)
		w->finished = true;
}

/* The pair's word is 0 on the leader's turn and 1 on the follower's.  Waits
 * time out now and then to notice the end of the run or a partner that left. */
static void step_futex(struct worker *w)
{
	uint32_t *word = &w->pair->futex;
	uint32_t mine = w->leader ? 0 : 1;
	struct timespec poll = { 0, PARTNER_POLL_MS * 1000000L };

	pause_progress(w);
	while (__atomic_load_n(word, __ATOMIC_ACQUIRE) != mine) {
		uint32_t partner_state = __atomic_load_n(&w->partner->state, __ATOMIC_RELAXED);
		if (run_over(w) || partner_state == WORKER_DONE || partner_state == WORKER_FAILED) {
			w->finished = true;
			resume_progress(w);
			return;
		}
		futex(word, FUTEX_WAIT, mine ^ 1, &poll);
	}
	resume_progress(w);
	__atomic_store_n(word, mine ^ 1, __ATOMIC_RELEASE);
	futex_wake_all(word);
}

static void step_cache_pressure(struct worker *w)
{
	/* 256 cache lines per step, walking the whole buffer in turn. */
	for (int i = 0; i < 256; i++) {
		w->buffer[w->position]++;
		w->position = (w->position + 64) % w->buffer_size;
	}
}

static void step_fork_exit(struct worker *w)
{
	pid_t child = fork();

	if (child == 0)
		_exit(0);
	if (child < 0) {
		w->finished = true;
		return;
	}
	pause_progress(w);
	while (waitpid(child, NULL, 0) < 0 && errno == EINTR)
		;
	resume_progress(w);
}

/* Pin to the next CPU of the allowed set.  A cpuset change by a scenario step
 * can take that CPU away; then the set is read again from the cgroup. */
static void step_affinity_churn(struct worker *w)
{
	cpu_set_t mask;

	spin(w, SPIN_ROUNDS / 4);
	if (cpulist_count(&w->allowed) == 0)
		return;
	do
		w->next_cpu = (w->next_cpu + 1) % CPULIST_MAX;
	while (!cpulist_has(&w->allowed, w->next_cpu));
	CPU_ZERO(&mask);
	CPU_SET(w->next_cpu, &mask);
	if (sched_setaffinity(0, sizeof(mask), &mask) == 0)
		return;

	char *path = xasprintf("%s/cpuset.cpus.effective", w->cg->path);
	char *text = fs_read_file(path, NULL);
	struct cpulist now;
	if (text && cpulist_parse(text, &now, NULL) == 0 && cpulist_count(&now) > 0)
		w->allowed = now;
	free(text);
	free(path);
}

static void work_step(struct worker *w)
{
	switch (w->cg->work) {
	case WORK_CPU_SPIN:
		spin(w, SPIN_ROUNDS);
		break;
	case WORK_YIELD_HEAVY:
		spin(w, SPIN_ROUNDS / 10);
		sched_yield();
		break;
	case WORK_MIXED:
		step_mixed(w);
		break;
	case WORK_IO_SYNC:
		step_io_sync(w);
		break;
	case WORK_BURSTY:
		step_bursty(w);
		break;
	case WORK_PIPE_IO:
		step_pipe_io(w);
		break;
	case WORK_FUTEX_PING_PONG:
		step_futex(w);
		break;
	case WORK_CACHE_PRESSURE:
		step_cache_pressure(w);
		break;
	case WORK_FORK_EXIT:
		step_fork_exit(w);
		break;
	case WORK_AFFINITY_CHURN:
		step_affinity_churn(w);
		break;
	case WORK_TYPE_COUNT:
		w->finished = true;
		break;
	}
}

__attribute__((format(printf, 2, 3), noreturn)) static void worker_fail(struct worker *w,
								      const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(w->slot->error, sizeof(w->slot->error), fmt, ap);
	va_end(ap);
	__atomic_store_n(&w->slot->state, WORKER_FAILED, __ATOMIC_RELEASE);
	_exit(1);
}

/* Per-type setup that may fail, before the worker reports ready. */
static void prepare(struct worker *w)
{
	char *path;

	switch (w->cg->work) {
	case WORK_IO_SYNC:
		path = xasprintf("/tmp/ktstr-io-%d", (int)getpid());
		w->io_fd = open(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
		if (w->io_fd < 0)
			worker_fail(w, "cannot create '%s': %s", path, strerror(errno));
		unlink(path);
		free(path);
		w->buffer = xcalloc(1, IO_BLOCK);
		break;
	case WORK_CACHE_PRESSURE:
		w->buffer_size = (size_t)w->cg->cache_kb * 1024;
		w->buffer = mmap(NULL, w->buffer_size, PROT_READ | PROT_WRITE,
				 MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
		if (w->buffer == MAP_FAILED)
			worker_fail(w, "cannot map a %u KiB buffer: %s", w->cg->cache_kb,
				    strerror(errno));
		break;
	case WORK_AFFINITY_CHURN: {
		cpu_set_t mask;
		if (sched_getaffinity(0, sizeof(mask), &mask) != 0)
			worker_fail(w, "sched_getaffinity: %s", strerror(errno));
		cpulist_clear(&w->allowed);
		for (unsigned cpu = 0; cpu < CPU_SETSIZE && cpu < CPULIST_MAX; cpu++) {
			if (CPU_ISSET(cpu, &mask))
				cpulist_add(&w->allowed, cpu);
		}
		w->next_cpu = (unsigned)getpid() % CPULIST_MAX;
		break;
	}
	default:
		break;
	}
}

__attribute__((noreturn)) static void run_worker(struct worker *w)
{
	struct worker_slot *slot = w->slot;
	char *procs = xasprintf("%s/cgroup.procs", w->cg->path);
	struct timespec poll = { 0, PARTNER_POLL_MS * 1000000L };

	prctl(PR_SET_NAME, WORKER_COMM);
	/* Die with the agent rather than spin on in an orphaned guest. */
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	signal(SIGPIPE, SIG_IGN);

	if (cgroup_write_file(procs, "0") != 0)
		worker_fail(w, "cannot join cgroup '%s': %s", w->cg->name, strerror(errno));
	if (w->cg->nice && setpriority(PRIO_PROCESS, 0, w->cg->nice) != 0)
		worker_fail(w, "cannot set nice %d: %s", w->cg->nice, strerror(errno));
	/* A scheduler enabled in partial mode only takes tasks that ask for it. */
	struct sched_param param = { 0 };
	if (w->ext_policy && sched_setscheduler(0, WORKER_SCHED_EXT, &param) != 0)
		worker_fail(w, "cannot switch to the SCHED_EXT policy: %s", strerror(errno));
	prepare(w);

	__atomic_store_n(&slot->state, WORKER_READY, __ATOMIC_RELEASE);
	while (!__atomic_load_n(&w->shared->go, __ATOMIC_ACQUIRE))
		futex(&w->shared->go, FUTEX_WAIT, 0, &poll);

	/* Every worker is runnable from the common start on, so a worker that
	 * gets its first turn late has waited that long: its run and its first
	 * gap count from there. */
	__atomic_store_n(&slot->state, WORKER_RUNNING, __ATOMIC_RELEASE);
	slot->start_ns = w->shared->start_ns;
	slot->last_ns = slot->start_ns;
	w->phase_start_ns = work_now_ns();
	while (!run_over(w)) {
		work_step(w);
		mark_progress(w);
	}
	pause_progress(w);
	slot->end_ns = work_now_ns();

	/* Leaving closes the pipes, which signals a PipeIo partner to stop. */
	work_read_proc(0, slot);
	__atomic_store_n(&slot->state, WORKER_DONE, __ATOMIC_RELEASE);
	if (w->cg->work == WORK_FUTEX_PING_PONG)
		futex_wake_all(&w->pair->futex);
	_exit(0);
}

/* Fork one worker; pipes (PipeIo) are the pair's four ends, closed here in
 * the parent by the caller. */
static int fork_worker(struct work_shared *shared, size_t index, const struct scenario *scen,
		       const struct cgroup_spec *cg, size_t pair_index, const int pipes[4])
{
	pid_t pid = fork();

	if (pid < 0) {
		fprintf(stderr, "ktstr-guest: cannot fork worker %zu of cgroup '%s': %s\n", index,
			cg->name, strerror(errno));
		return -1;
	}
	if (pid > 0) {
		shared->slots[index].pid = pid;
		return 0;
	}

	struct worker w = {
		.shared = shared,
		.slot = &shared->slots[index],
		.pair = &shared->slots[pair_index],
		.partner = &shared->slots[index == pair_index ? index + 1 : pair_index],
		.cg = cg,
		.ext_policy = scen->ext_policy,
		.leader = index == pair_index,
		.in_fd = -1,
		.out_fd = -1,
		.io_fd = -1,
	};
	if (cg->work == WORK_PIPE_IO) {
		/* pipes[0..1]: leader to follower; pipes[2..3]: follower to leader. */
		w.out_fd = w.leader ? pipes[1] : pipes[3];
		w.in_fd = w.leader ? pipes[2] : pipes[0];
		close(w.leader ? pipes[0] : pipes[1]);
		close(w.leader ? pipes[3] : pipes[2]);
	}
	run_worker(&w);
}

int work_start(struct scenario *scen, struct work_shared *shared)
{
	size_t index = 0;

	for (size_t c = 0; c < scen->nr_cgroups; c++) {
		struct cgroup_spec *cg = &scen->cgroups[c];
		bool paired = work_type_paired(cg->work);
		int pipes[4] = { -1, -1, -1, -1 };

		cg->first_worker = index;
		for (unsigned i = 0; i < cg->workers; i++, index++) {
			size_t pair_index = paired ? index - (i % 2) : index;
			bool opens_pair = cg->work == WORK_PIPE_IO && i % 2 == 0;
			bool closes_pair = cg->work == WORK_PIPE_IO && i % 2 == 1;

			shared->slots[index].cgroup = (uint32_t)c;
			if (opens_pair && (pipe2(pipes, O_CLOEXEC) != 0 || pipe2(pipes + 2, O_CLOEXEC) != 0)) {
				fprintf(stderr, "ktstr-guest: cannot create pipes for cgroup '%s': %s\n",
					cg->name, strerror(errno));
				return -1;
			}
			if (fork_worker(shared, index, scen, cg, pair_index, pipes) != 0)
				return -1;
			/* Both partners have their ends now; the agent keeps none, so
			 * a partner that leaves shows as EOF or EPIPE to the other. */
			if (closes_pair) {
				for (int k = 0; k < 4; k++) {
					close(pipes[k]);
					pipes[k] = -1;
				}
			}
		}
	}
	return 0;
}

bool work_release(struct work_shared *shared, uint64_t duration_ms, uint64_t timeout_ms)
{
	uint64_t deadline = work_now_ns() + timeout_ms * 1000000ull;
	struct timespec tick = { 0, 10 * 1000000L };

	for (;;) {
		size_t ready = 0, failed = 0;
		for (size_t i = 0; i < shared->nr_workers; i++) {
			uint32_t state = __atomic_load_n(&shared->slots[i].state, __ATOMIC_ACQUIRE);
			ready += state == WORKER_READY;
			failed += state == WORKER_FAILED;
		}
		if (failed)
			return false;
		if (ready == shared->nr_workers)
			break;
		if (work_now_ns() >= deadline)
			return false;
		nanosleep(&tick, NULL);
	}
	shared->start_ns = work_now_ns();
	shared->end_ns = shared->start_ns + duration_ms * 1000000ull;
	__atomic_store_n(&shared->go, 1, __ATOMIC_RELEASE);
	futex_wake_all(&shared->go);
	return true;
}

bool work_reap(struct work_shared *shared)
{
	bool all = true;

	for (size_t i = 0; i < shared->nr_workers; i++) {
		struct worker_slot *slot = &shared->slots[i];
		int status;

		if (slot->reaped || slot->pid <= 0)
			continue;
		pid_t got = waitpid(slot->pid, &status, WNOHANG);
		if (got == slot->pid) {
			slot->reaped = true;
			slot->exit_status = WIFEXITED(status) ? WEXITSTATUS(status) :
				128 + WTERMSIG(status);
		} else {
			all = false;
		}
	}
	return all;
}

void work_stop(struct work_shared *shared)
{
	uint64_t now = work_now_ns();

	__atomic_store_n(&shared->stop, 1, __ATOMIC_RELEASE);
	__atomic_store_n(&shared->go, 1, __ATOMIC_RELEASE);
	futex_wake_all(&shared->go);
	for (size_t i = 0; i < shared->nr_workers; i++) {
		struct worker_slot *slot = &shared->slots[i];
		uint32_t state = __atomic_load_n(&slot->state, __ATOMIC_ACQUIRE);

		if (slot->reaped || slot->pid <= 0)
			continue;
		/* A worker released but never run since has been runnable from the
		 * start. A worker that never reached its end reports its result so
		 * far, including the time since its last mark. */
		bool released = shared->start_ns && state == WORKER_READY;
		if (state == WORKER_RUNNING || released) {
			uint64_t last = released ? shared->start_ns :
				__atomic_load_n(&slot->last_ns, __ATOMIC_RELAXED);
			if (released)
				slot->start_ns = shared->start_ns;
			work_read_proc(slot->pid, slot);
			if (last && now > last && now - last > slot->max_gap_ns) {
				slot->max_gap_ns = now - last;
				slot->max_gap_at_ns = now - shared->start_ns;
				slot->max_gap_cpu = -1;
			}
			slot->end_ns = now;
		}
		if (state != WORKER_DONE && state != WORKER_FAILED)
			slot->killed = true;
		kill(slot->pid, SIGKILL);
	}
	for (size_t i = 0; i < shared->nr_workers; i++) {
		struct worker_slot *slot = &shared->slots[i];
		int status;

		if (slot->reaped || slot->pid <= 0)
			continue;
		while (waitpid(slot->pid, &status, 0) < 0 && errno == EINTR)
			;
		slot->reaped = true;
		slot->exit_status = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
	}
}
