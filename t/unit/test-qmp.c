/* lib/qmp: the conversion of query-stats responses, and whole conversations
 * with a real QEMU under TCG (no KVM statistics) and, where /dev/kvm opens,
 * under KVM (statistics for every vCPU). */
#include "tap.h"

#include "json.h"
#include "qmp.h"
#include "spawn.h"
#include "xalloc.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static jv parse(const char *text)
{
	return json_parse(text, strlen(text), NULL, NULL);
}

static char *convert(const char *ret_text, const char *paths_text)
{
	jv ret = parse(ret_text);
	jv paths = parse(paths_text);
	jv out = qmp_vcpu_stats(ret, paths);
	char *text = json_to_string(out);

	jv_free(ret);
	jv_free(paths);
	return text;
}

static void test_conversion(void)
{
	static const char answer[] =
		"[{\"provider\":\"kvm\",\"qom-path\":\"/machine/unattached/device[2]\",\"stats\":"
		"[{\"name\":\"exits\",\"value\":7},{\"name\":\"guest_mode\",\"value\":true},"
		"{\"name\":\"halt_wait_hist_ns\",\"value\":[1,2,3]}]},"
		"{\"provider\":\"kvm\",\"qom-path\":\"/machine/unattached/device[0]\",\"stats\":"
		"[{\"name\":\"exits\",\"value\":90211},{\"name\":\"guest_mode\",\"value\":false}]},"
		"{\"provider\":\"cryptodev\",\"qom-path\":\"/objects/c0\",\"stats\":"
		"[{\"name\":\"ops\",\"value\":1}]}]";
	char *text;

	text = convert(answer, "[\"/machine/unattached/device[0]\",\"/machine/unattached/device[2]\"]");
	is_str(text, "{\"per_vcpu\":[{\"exits\":90211,\"guest_mode\":0},{\"exits\":7,\"guest_mode\":1}]}",
	       "conversion: CPU-index order, numbers only");
	free(text);

	text = convert(answer, "null");
	is_str(text, "{\"per_vcpu\":[{\"exits\":7,\"guest_mode\":1},{\"exits\":90211,\"guest_mode\":0}]}",
	       "conversion: no vCPU list keeps order");
	free(text);

	text = convert(answer, "[\"/machine/unattached/device[0]\"]");
	is_str(text, "{\"per_vcpu\":[{\"exits\":90211,\"guest_mode\":0},{\"exits\":7,\"guest_mode\":1}]}",
	       "conversion: unlisted vCPU comes last");
	free(text);

	text = convert("[]", "null");
	is_str(text, "null", "conversion: empty response is null");
	free(text);

	text = convert("[{\"provider\":\"kvm\",\"stats\":[{\"value\":1},{\"name\":\"x\"},7]}]", "null");
	is_str(text, "{\"per_vcpu\":[{}]}", "conversion: nameless statistics skipped");
	free(text);

	text = convert("{\"not\":\"a list\"}", "null");
	is_str(text, "null", "conversion: non-list response is null");
	free(text);
}

static void test_line_framing(void)
{
	struct qmp qmp;
	static const char answer[] =
		"{\"return\": [{\"provider\": \"kvm\", \"qom-path\": \"/cpu0\", \"stats\": "
		"[{\"name\": \"exits\", \"value\": 5}]}], \"id\": \"stats\"}\r\n";

	qmp_init(&qmp, -1);
	qmp.ready = true;
	qmp.stats_pending = true;
	/* The response arrives in three pieces. */
	qmp_input(&qmp, answer, 20);
	qmp_input(&qmp, answer + 20, 30);
	is_int(qmp.samples, 0, "framing: half line waits");
	qmp_input(&qmp, answer + 50, strlen(answer) - 50);
	is_int(qmp.samples, 1, "framing: whole line is parsed");
	is_int(qmp.stats_pending, 0, "framing: query no longer pending");
	char *text = json_to_string(jv_copy(qmp.kvm_stats));
	is_str(text, "{\"per_vcpu\":[{\"exits\":5}]}", "framing: statistics are stored");
	free(text);

	static const char later[] = "{\"return\": [], \"id\": \"stats\"}\n";
	qmp.stats_pending = true;
	qmp_input(&qmp, later, strlen(later));
	text = json_to_string(jv_copy(qmp.kvm_stats));
	is_str(text, "{\"per_vcpu\":[{\"exits\":5}]}", "framing: empty response keeps reading");
	free(text);
	is_int(qmp.stats_off, 0, "framing: empty response keeps querying");
	qmp_release(&qmp);
}

static double now_seconds(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Start QEMU with its monitor connected to a socket this test listens on,
 * talk until a statistics response arrives, and return the conversation. */
static int converse(const char *accel, const char *cpu, struct qmp *qmp, struct spawn *child)
{
	char dir[] = "/tmp/ktstr-qmp.XXXXXX";
	struct sockaddr_un addr = { .sun_family = AF_UNIX };
	int listen_fd, fd = -1;

	if (!mkdtemp(dir))
		return -1;
	snprintf(addr.sun_path, sizeof(addr.sun_path), "%s/qmp", dir);
	listen_fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (listen_fd < 0 || bind(listen_fd, (struct sockaddr *)&addr, sizeof(addr)) != 0 ||
	    listen(listen_fd, 1) != 0)
		return -1;

	char *chardev = xasprintf("socket,id=qmp,path=%s", addr.sun_path);
	const char *argv[] = { "qemu-system-x86_64", "-nodefaults", "-no-user-config", "-display",
			       "none", "-S", "-accel", accel, "-cpu", cpu, "-smp", "2", "-m", "128",
			       "-chardev", chardev, "-mon", "chardev=qmp,mode=control", NULL };
	int null_fd = open("/dev/null", O_RDWR | O_CLOEXEC);
	*child = (struct spawn)SPAWN_INIT;
	child->argv = argv;
	child->stdin_fd = null_fd;
	child->stdout_fd = null_fd;
	child->stderr_fd = null_fd;
	int started = spawn_start(child);
	close(null_fd);
	free(chardev);
	if (started != 0)
		return -1;

	struct pollfd pfd = { listen_fd, POLLIN, 0 };
	if (poll(&pfd, 1, 20000) == 1)
		fd = accept4(listen_fd, NULL, NULL, SOCK_CLOEXEC);
	close(listen_fd);
	unlink(addr.sun_path);
	rmdir(dir);
	if (fd < 0)
		return -1;

	qmp_init(qmp, fd);
	double deadline = now_seconds() + 20;
	while (now_seconds() < deadline && !qmp->error && !qmp->samples && !qmp->stats_off) {
		char buf[65536];

		qmp_sample(qmp);
		pfd = (struct pollfd){ fd, POLLIN, 0 };
		if (poll(&pfd, 1, 1000) != 1)
			continue;
		ssize_t n = read(fd, buf, sizeof(buf));
		if (n <= 0)
			break;
		qmp_input(qmp, buf, (size_t)n);
	}
	return fd;
}

static void stop_qemu(struct spawn *child, int fd)
{
	if (fd >= 0)
		close(fd);
	kill(child->pid, SIGKILL);
	spawn_wait(child);
}

static void test_tcg(void)
{
	struct qmp qmp;
	struct spawn child;
	int fd = converse("tcg", "max", &qmp, &child);

	if (!ok(fd >= 0, "tcg: QEMU connects to socket"))
		return;
	is_str(qmp.error, NULL, "tcg: conversation has no error");
	is_int(qmp.ready, 1, "tcg: handshake completes");
	is_int(jv_get_kind(qmp.cpu_paths) == JV_KIND_ARRAY ? jv_array_length(jv_copy(qmp.cpu_paths)) : -1, 2,
	       "tcg: both vCPUs listed");
	is_int(qmp.stats_off, 1, "tcg: statistics queries stop");
	is_int(jv_get_kind(qmp.kvm_stats), JV_KIND_NULL, "tcg: kvm_stats stays null");
	is_int(qmp_sample(&qmp), 0, "tcg: qmp_sample sends nothing");
	qmp_release(&qmp);
	stop_qemu(&child, fd);
}

static void test_kvm(void)
{
	int probe = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	struct qmp qmp;
	struct spawn child;

	if (probe < 0) {
		ok(1, "# SKIP kvm: /dev/kvm cannot be opened (%s)", strerror(errno));
		return;
	}
	close(probe);
	/* qemu64, not host: PVM hosts reject the host model's MSRs, and the
	 * statistics do not depend on the model. */
	int fd = converse("kvm", "qemu64", &qmp, &child);
	if (!ok(fd >= 0, "kvm: QEMU connects to socket"))
		return;
	is_int(qmp.samples, 1, "kvm: one statistics response");
	jv per_vcpu = jv_get_kind(qmp.kvm_stats) == JV_KIND_OBJECT
			      ? jv_object_get(jv_copy(qmp.kvm_stats), jv_string("per_vcpu"))
			      : jv_null();
	is_int(jv_get_kind(per_vcpu) == JV_KIND_ARRAY ? jv_array_length(jv_copy(per_vcpu)) : -1, 2,
	       "kvm: one object per vCPU");
	jv first = jv_get_kind(per_vcpu) == JV_KIND_ARRAY ? jv_array_get(jv_copy(per_vcpu), 0) : jv_null();
	double exits = -1, guest_mode = -1;
	ok(json_num(first, "exits", &exits) && exits >= 0, "kvm: vCPU 0 has exits");
	ok(json_num(first, "guest_mode", &guest_mode) && (guest_mode == 0 || guest_mode == 1),
	   "kvm: boolean becomes a number");
	ok(!json_has(first, "halt_wait_hist"), "kvm: histogram left out");
	ok(json_has(first, "halt_wait_ns"), "kvm: total kept");
	jv_free(first);
	jv_free(per_vcpu);
	qmp_release(&qmp);
	stop_qemu(&child, fd);
}

int main(void)
{
	test_conversion();
	test_line_framing();
	test_tcg();
	test_kvm();
	return done_testing();
}
