/* lib/sha256 against published test vectors, and lib/kbuild's reading of
 * build logs. */
#include "fsutil.h"
#include "kbuild.h"
#include "sha256.h"
#include "tap.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void check_digest(const char *input, size_t repeat, const char *want)
{
	struct sha256 hash = SHA256_INIT;
	char hex[SHA256_HEX_LEN + 1];

	sha256_init(&hash);
	for (size_t i = 0; i < repeat; i++)
		sha256_update(&hash, input, strlen(input));
	is_str(sha256_final_hex(&hash, hex), want, "sha256 of %zu x '%.10s'", repeat, input);
}

/* Write text to a temporary log and return kbuild_log_cause() of it. */
static char *cause_of(const char *text)
{
	char path[] = "/tmp/ktstr-unit-log.XXXXXX";
	int fd = mkstemp(path);

	if (fd < 0 || write(fd, text, strlen(text)) != (ssize_t)strlen(text))
		return NULL;
	close(fd);
	char *cause = kbuild_log_cause(path);
	unlink(path);
	return cause;
}

int main(void)
{
	/* FIPS 180-2 examples. */
	check_digest("", 1, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
	check_digest("abc", 1, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
	check_digest("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq", 1,
		     "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
	check_digest("a", 1000000, "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");

	char *cause = cause_of("$ make -C/src -j2\n  CC      kernel/fork.o\n"
			       "kernel/sched/ext.c:12:3: error: expected ';' before '}' token\n"
			       "make[2]: *** [scripts/Makefile.build:229: kernel/sched/ext.o] Error 1\n"
			       "make: all: exit status 2\n");
	is_str(cause, "kernel/sched/ext.c:12:3: error: expected ';' before '}' token",
	       "the compiler error wins over make's line");
	free(cause);

	cause = cause_of("$ make -C/src\n  LD      vmlinux\n"
			 "make[1]: *** [Makefile:1234: vmlinux] Error 1\nmake: exit status 2\n");
	is_str(cause, "make[1]: *** [Makefile:1234: vmlinux] Error 1", "make's *** line without a compiler error");
	free(cause);

	cause = cause_of("$ make -C/src defconfig\n  HOSTCC  scripts/basic/fixdep\nKilled\n");
	is_str(cause, "Killed", "else the last line of make's output");
	free(cause);

	cause = cause_of("");
	ok(cause == NULL, "an empty log has no cause");

	ok(kbuild_cpus() >= 1, "at least one CPU");
	return done_testing();
}
