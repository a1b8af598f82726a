/* ktstr-fetch: get the source of a Linux kernel and describe it.
 *
 *   ktstr-fetch [VERSION]              a kernel.org release (default: latest stable)
 *   ktstr-fetch --git URL --ref REF    a shallow clone of one ref
 *   ktstr-fetch --source PATH          a tree that is already on disk
 *
 * Prints the kernel descriptor, the JSON object that ktstr-kconfig,
 * ktstr-build and ktstr-cache read next, on stdout.
 */
#include "fetch.h"

#include "diag.h"
#include "fsutil.h"
#include "numarg.h"
#include "xalloc.h"

#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>

static const char usage[] =
	"Usage: ktstr-fetch [OPTIONS] [VERSION]\n"
	"       ktstr-fetch [OPTIONS] --git URL --ref REF\n"
	"       ktstr-fetch [OPTIONS] --source PATH\n"
	"\n"
	"Find a Linux kernel release on kernel.org, download its tarball and\n"
	"unpack it; or shallow-clone one git ref; or describe a kernel tree on\n"
	"disk.  Prints the kernel descriptor (JSON) on stdout.\n"
	"\n"
	"VERSION is an exact release (6.14.2), a release candidate (6.15-rc3) or\n"
	"a series (6.12) meaning its newest release; without one, the latest\n"
	"stable release.\n"
	"\n"
	"Options:\n"
	"  -r, --resolve-only     print the descriptor without downloading or\n"
	"                         cloning anything\n"
	"  -d, --dest DIR         unpack or clone into a new directory under DIR\n"
	"                         (default: the current directory)\n"
	"      --git URL          clone this repository instead of a release\n"
	"      --ref REF          the branch, tag or full commit id to clone\n"
	"      --source PATH      describe the kernel tree at PATH\n"
	"      --field NAME       print only this field of the descriptor\n"
	"      --retries N        retry an interrupted download N times (default 4)\n"
	"      --stall-timeout S  count a download as interrupted after S seconds\n"
	"                         without data (default 30)\n"
	"  -v, --verbose          more messages; twice for libcurl's own\n"
	"  -h, --help             print this help\n"
	"\n"
	"Environment:\n"
	"  KTSTR_RELEASES_URL   releases.json (default " FETCH_RELEASES_URL ")\n"
	"  KTSTR_KERNEL_MIRROR  base of v6.x/linux-*.tar.xz and v6.x/sha256sums.asc\n"
	"                       (default " FETCH_KERNEL_MIRROR ")\n"
	"  KTSTR_RC_URL         base of linux-*-rcN.tar.gz (default " FETCH_RC_URL ")\n"
	"  KTSTR_KEYRING        OpenPGP keyring file (binary, as gpg --export writes);\n"
	"                       when set, gpgv must find sha256sums.asc signed by a\n"
	"                       key in it, and only the signed checksums are used\n";

enum {
	OPT_GIT = 256,
	OPT_REF,
	OPT_SOURCE,
	OPT_FIELD,
	OPT_RETRIES,
	OPT_STALL_TIMEOUT,
};

static const struct option long_options[] = {
	{ "resolve-only", no_argument, NULL, 'r' },
	{ "dest", required_argument, NULL, 'd' },
	{ "git", required_argument, NULL, OPT_GIT },
	{ "ref", required_argument, NULL, OPT_REF },
	{ "source", required_argument, NULL, OPT_SOURCE },
	{ "field", required_argument, NULL, OPT_FIELD },
	{ "retries", required_argument, NULL, OPT_RETRIES },
	{ "stall-timeout", required_argument, NULL, OPT_STALL_TIMEOUT },
	{ "verbose", no_argument, NULL, 'v' },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 },
};

struct cli {
	struct fetch_opts fetch;
	const char *version;
	const char *git_url;
	const char *git_ref;
	const char *source;
	const char *field;
};

volatile sig_atomic_t fetch_interrupted;

static void on_signal(int sig)
{
	fetch_interrupted = sig;
}

static void catch_signals(void)
{
	struct sigaction action;

	memset(&action, 0, sizeof(action));
	action.sa_handler = on_signal;
	sigemptyset(&action.sa_mask);
	/* No SA_RESTART: a blocked read or poll returns so the flag is seen. */
	sigaction(SIGINT, &action, NULL);
	sigaction(SIGTERM, &action, NULL);
	sigaction(SIGHUP, &action, NULL);
}

static long parse_count(const char *text, const char *option, long min, long max)
{
	unsigned long long value;

	if (numarg_parse(text, (unsigned long long)min, (unsigned long long)max, &value) != 0)
		die_usage("invalid %s '%s': expected a whole number from %ld to %ld", option, text, min,
			  max);
	return (long)value;
}

static void parse_args(int argc, char **argv, struct cli *cli)
{
	int opt;

	while ((opt = getopt_long(argc, argv, "rd:vh", long_options, NULL)) != -1) {
		switch (opt) {
		case 'r':
			cli->fetch.resolve_only = true;
			break;
		case 'd':
			cli->fetch.dest = optarg;
			break;
		case OPT_GIT:
			cli->git_url = optarg;
			break;
		case OPT_REF:
			cli->git_ref = optarg;
			break;
		case OPT_SOURCE:
			cli->source = optarg;
			break;
		case OPT_FIELD:
			cli->field = optarg;
			break;
		case OPT_RETRIES:
			cli->fetch.http.retries = (unsigned)parse_count(optarg, "--retries", 0, 100);
			break;
		case OPT_STALL_TIMEOUT:
			cli->fetch.http.stall_timeout_s = parse_count(optarg, "--stall-timeout", 1, 86400);
			break;
		case 'v':
			diag_verbose++;
			break;
		case 'h':
			fputs(usage, stdout);
			exit(diag_close_stdout(KTSTR_EXIT_OK));
		default:
			die_usage("invalid option");
		}
	}
	if (optind < argc)
		cli->version = argv[optind++];
	if (optind < argc)
		die_usage("unexpected argument '%s': give at most one VERSION", argv[optind]);

	if (cli->version && (cli->git_url || cli->source))
		die_usage("VERSION '%s' conflicts with %s", cli->version,
			  cli->git_url ? "--git" : "--source");
	if (cli->git_url && cli->source)
		die_usage("--git conflicts with --source");
	if (cli->git_url && !cli->git_ref)
		die_usage("--git needs --ref: name the branch, tag or commit to clone");
	if (cli->git_ref && !cli->git_url)
		die_usage("--ref is only valid with --git");
	if (cli->git_url && !*cli->git_url)
		die_usage("--git needs a repository URL");
	if (cli->git_ref && !*cli->git_ref)
		die_usage("--ref needs a branch, tag or commit");
}

/* Reject an unknown --field before any work, not after a long download. */
static void check_field(const char *field)
{
	struct kdesc empty;
	FILE *null = fopen("/dev/null", "we");

	if (!field || !null) {
		if (null)
			fclose(null);
		return;
	}
	kdesc_init(&empty);
	int known = kdesc_write(null, &empty, field);
	kdesc_release(&empty);
	fclose(null);
	if (known != 0)
		exit(KTSTR_EXIT_ERROR);
}

static const char *machine_arch(void)
{
	static struct utsname name;

	if (uname(&name) != 0)
		return "x86_64";
	if (!strcmp(name.machine, "arm64"))
		return "aarch64";
	return name.machine;
}

static int fetch_release(const struct cli *cli, struct kdesc *desc)
{
	char version[32];
	struct kver ver;

	if (resolve_version(&cli->fetch, cli->version, version) != 0)
		return -1;
	kver_parse(version, &ver);
	desc->source_type = KDESC_SOURCE_TARBALL;
	desc->version = xstrdup(version);
	desc->url = tarball_url(&ver, version);
	if (cli->fetch.resolve_only)
		return 0;
	return tarball_fetch(&cli->fetch, version, desc->url, desc);
}

static int fetch_git(const struct cli *cli, struct kdesc *desc)
{
	desc->source_type = KDESC_SOURCE_GIT;
	desc->url = xstrdup(cli->git_url);
	desc->ref = xstrdup(cli->git_ref);
	if (cli->fetch.resolve_only) {
		desc->git_hash = git_resolve(cli->git_url, cli->git_ref);
		return desc->git_hash ? 0 : -1;
	}
	return git_fetch(&cli->fetch, cli->git_url, cli->git_ref, desc);
}

int main(int argc, char **argv)
{
	struct cli cli = { .fetch = { .dest = ".", .http = HTTP_OPTIONS_DEFAULT } };
	struct kdesc desc;
	int ret;

	diag_init(argv[0]);
	parse_args(argc, argv, &cli);
	check_field(cli.field);
	catch_signals();
	cli.fetch.http.cancel = &fetch_interrupted;

	if (!cli.fetch.resolve_only && !cli.source && fs_mkdir_p(cli.fetch.dest, 0755) != 0)
		die_errno("cannot create the destination '%s'", cli.fetch.dest);

	kdesc_init(&desc);
	desc.arch = xstrdup(machine_arch());
	if (cli.source) {
		desc.source_type = KDESC_SOURCE_LOCAL;
		ret = local_describe(cli.source, &desc);
	} else if (cli.git_url) {
		ret = fetch_git(&cli, &desc);
	} else {
		ret = fetch_release(&cli, &desc);
	}
	if (fetch_interrupted) {
		kdesc_release(&desc);
		signal(fetch_interrupted, SIG_DFL);
		raise(fetch_interrupted);
	}
	if (ret != 0) {
		kdesc_release(&desc);
		return KTSTR_EXIT_ERROR;
	}

	ret = kdesc_write(stdout, &desc, cli.field);
	kdesc_release(&desc);
	return diag_close_stdout(ret ? KTSTR_EXIT_ERROR : KTSTR_EXIT_OK);
}
