/*
 * postlet passwd [-5] [-r ROUNDS] NAME SENDERS: make one line of the users
 * file. The password is read twice without echo from a terminal, or once
 * from standard input when that is not a terminal (for scripts); the line
 * goes to standard output, checked by the same parser that will read it.
 */
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include "auth/shacrypt.h"
#include "auth/users.h"
#include "board.h"
#include "main.h"

#define LINE_MAX_BYTES (USERS_NAME_MAX + SHACRYPT_OUT_MAX + USERS_LINE_MAX)

static const char itoa64[] =
	"./0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

static struct termios saved;
static volatile sig_atomic_t echo_off;

static int
fail(const char *what)
{
	fprintf(stderr, "postlet passwd: %s\n", what);
	return EXIT_USAGE;
}

/* An interrupted prompt must not leave the terminal without echo. */
static void
restore_and_exit(int sig)
{
	ssize_t n;

	if (echo_off)
		tcsetattr(STDIN_FILENO, TCSAFLUSH, &saved);
	n = write(STDERR_FILENO, "\n", 1);
	(void)n;
	_exit(128 + sig);
}

static void
catch_signals(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = restore_and_exit;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
}

/*
 * One line from standard input into buf[0..size), without its LF or
 * CRLF. Returns its length, or -1 when it is empty, unread or longer
 * than USERS_PASSWORD_MAX.
 */
static long
read_line(char *buf, size_t size)
{
	size_t len = 0;
	char ch;

	for (;;) {
		ssize_t n = read(STDIN_FILENO, &ch, 1);

		if (n <= 0 || ch == '\n')
			break;
		if (len + 1 >= size)
			return -1;
		buf[len++] = ch;
	}
	if (len > 0 && buf[len - 1] == '\r')
		len--;
	return len > 0 && len <= USERS_PASSWORD_MAX ? (long)len : -1;
}

/* Prompt on standard error and read a line with echo off. */
static long
read_hidden(const char *prompt, char *buf, size_t size)
{
	struct termios t = saved;
	long n;

	fputs(prompt, stderr);
	fflush(stderr);
	t.c_lflag &= ~(tcflag_t)ECHO;
	t.c_lflag |= ECHONL;
	echo_off = 1;
	tcsetattr(STDIN_FILENO, TCSAFLUSH, &t);
	n = read_line(buf, size);
	tcsetattr(STDIN_FILENO, TCSAFLUSH, &saved);
	echo_off = 0;
	return n;
}

/* The password into pw[0..size): asked twice on a terminal. */
static long
read_password(char *pw, size_t size)
{
	char again[USERS_PASSWORD_MAX + 2];
	long n, m;

	if (!isatty(STDIN_FILENO) || tcgetattr(STDIN_FILENO, &saved) != 0)
		return read_line(pw, size);
	catch_signals();
	n = read_hidden("Password: ", pw, size);
	if (n < 0)
		return -1;
	m = read_hidden("Again: ", again, sizeof(again));
	if (m != n || memcmp(pw, again, (size_t)n) != 0)
		n = -2;
	memset(again, 0, sizeof(again));
	return n;
}

/* "$6$" and 16 characters from the kernel's random source. */
static int
make_setting(int scheme, unsigned rounds, char *out, size_t size)
{
	unsigned char r[SHACRYPT_SALT_MAX];
	char salt[SHACRYPT_SALT_MAX + 1];
	size_t i;

	if (board_entropy(r, sizeof(r)) != 0)
		return -1;
	/* 256 is a multiple of 64: every character is equally likely. */
	for (i = 0; i < sizeof(r); i++)
		salt[i] = itoa64[r[i] & 63];
	salt[sizeof(r)] = '\0';
	if (rounds == 0)
		snprintf(out, size, "$%d$%s", scheme, salt);
	else
		snprintf(out, size, "$%d$rounds=%u$%s", scheme, rounds, salt);
	return 0;
}

/* -r: 1000 to USERS_ROUNDS_MAX, plain decimal. */
static int
parse_rounds(const char *s, unsigned *out)
{
	unsigned long v = 0;

	if (*s == '\0' || *s == '0')
		return -1;
	for (; *s != '\0'; s++) {
		if (*s < '0' || *s > '9' || v > USERS_ROUNDS_MAX)
			return -1;
		v = v * 10 + (unsigned long)(*s - '0');
	}
	if (v < SHACRYPT_ROUNDS_MIN || v > USERS_ROUNDS_MAX)
		return -1;
	*out = (unsigned)v;
	return 0;
}

/* Hash, assemble the line, and read it back as the daemon will. */
static int
emit(const char *name, const char *senders, int scheme, unsigned rounds,
	const char *pw, size_t pwlen)
{
	char setting[48], hash[SHACRYPT_OUT_MAX], line[LINE_MAX_BYTES];
	char err[USERS_ERROR_MAX];
	struct users *u = NULL;
	int n;

	if (make_setting(scheme, rounds, setting, sizeof(setting)) != 0)
		return fail("the kernel's random source is not ready yet");
	if (shacrypt(pw, pwlen, setting, strlen(setting), hash, sizeof(hash)) <
		0)
		return fail("cannot hash");
	n = snprintf(line, sizeof(line), "%s:%s:%s", name, hash, senders);
	if (n < 0 || (size_t)n >= sizeof(line) ||
		users_parse(&u, "line", line, (size_t)n, err, sizeof(err)) != 0)
		return fail(n < 0 || (size_t)n >= sizeof(line) ? "line too long"
							       : err);
	users_free(u);
	printf("%s\n", line);
	return fflush(stdout) == 0 ? EXIT_OK : fail("cannot write");
}

int
passwd_main(int argc, char **argv)
{
	char pw[USERS_PASSWORD_MAX + 2], err[USERS_ERROR_MAX];
	unsigned rounds = 0;
	int scheme = 6, opt, rc;
	long n;

	while ((opt = getopt(argc, argv, "5r:")) != -1) {
		if (opt == '5')
			scheme = 5;
		else if (opt != 'r' || parse_rounds(optarg, &rounds) != 0)
			return fail("usage: postlet passwd [-5] [-r rounds] "
				    "name senders (rounds 1000 to 500000)");
	}
	if (argc - optind != 2)
		return fail("usage: postlet passwd [-5] [-r rounds] name "
			    "senders");
	if (users_check_name(argv[optind], strlen(argv[optind]), err,
		    sizeof(err)) != 0 ||
		users_check_senders(argv[optind + 1], strlen(argv[optind + 1]),
			err, sizeof(err)) != 0)
		return fail(err);

	n = read_password(pw, sizeof(pw));
	if (n == -2)
		return fail("the passwords differ");
	if (n < 0)
		return fail("want a password of 1 to 256 bytes");
	rc = emit(
		argv[optind], argv[optind + 1], scheme, rounds, pw, (size_t)n);
	memset(pw, 0, sizeof(pw));
	return rc;
}
