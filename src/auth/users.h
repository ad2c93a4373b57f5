/*
 * The users file: who may submit, with which password, from which sender
 * addresses. One user a line, "#" comments and blank lines allowed:
 *
 *   alice:$6$Ws1hZ8yQ$...:alice@example.org,*@alice.example
 *
 * NAME is 1 to 64 of [A-Za-z0-9._@+-], compared exactly. HASH is a
 * SHA-crypt hash (shacrypt.h). SENDERS is a comma list of at least one
 * address (local@domain) or "*@domain" (any local part at that domain).
 * A file with any error is refused whole; messages are "file:line:
 * problem". README.md and postlet.8 describe the format for users.
 */
#ifndef POSTLET_USERS_H
#define POSTLET_USERS_H

#include <stddef.h>

#include "auth/shacrypt.h"

#define USERS_FILE_MAX (1024 * 1024) /* bytes in the whole file */
#define USERS_LINE_MAX 1023 /* bytes in a line, its ending not counted */
#define USERS_COUNT_MAX 10000
#define USERS_NAME_MAX 64
#define USERS_ERROR_MAX 320

/*
 * Highest rounds= accepted. One thread serves every session, and each
 * login's hash takes its share of it, in pieces or not: 500000 rounds
 * take about half a second on a desktop CPU and tens of seconds on a
 * router's.
 */
#define USERS_ROUNDS_MAX 500000

/*
 * Longest password tried. SHA-crypt's cost grows with the password's
 * length (quadratically in one step), and AUTH lines carry up to 12 KiB:
 * a longer password fails without being hashed at length.
 */
#define USERS_PASSWORD_MAX 256

struct users;
struct user;

/*
 * Parse a whole users file held in buf[0..len) and named name (for error
 * messages). Returns 0 with a new set in *out, to be given to users_free,
 * or -1 with "name:line: problem" in err. buf is copied; the caller keeps
 * it.
 */
int users_parse(struct users **out, const char *name, const char *buf,
	size_t len, char *err, size_t errlen);

/* Read the file at path (at most 1 MiB) and parse it. NULL and err on
 * failure. */
struct users *users_load(const char *path, char *err, size_t errlen);

void users_free(struct users *u);

size_t users_count(const struct users *u);

/*
 * The user called name whose password is password, or NULL. Costs one
 * hash whether or not the name exists (an unknown name hashes a dummy
 * with the first user's scheme and rounds), and compares digests in
 * constant time, so the answer's timing does not tell which names exist.
 * The user stays valid until users_free.
 */
const struct user *users_authenticate(const struct users *u, const char *name,
	size_t namelen, const char *password, size_t pwlen);

/*
 * users_authenticate in pieces, so that the loop serves other sessions
 * between them. The caller owns the check; it holds no allocation, and
 * nothing of name or pw after users_check_start returns, but u must
 * outlive it. Every check ends in users_check_result, which also wipes
 * one abandoned early.
 */
struct users_check {
	struct shacrypt_job job;
	const struct user *user; /* NULL: the check fails whatever the hash */
};

/* Find name and start hashing pw; with u NULL the check is done at once. */
void users_check_start(const struct users *u, const char *name, size_t namelen,
	const char *pw, size_t pwlen, struct users_check *c);

/* Run at most max_rounds rounds of the hash; 1 when it is done, else 0. */
int users_check_step(struct users_check *c, unsigned long max_rounds);

/*
 * What users_authenticate would have answered, and c wiped. Before
 * users_check_step returned 1 it answers NULL.
 */
const struct user *users_check_result(struct users_check *c);

/*
 * The user called name[0..len), or NULL, without a password: for binding
 * a session that already authenticated to a freshly loaded set.
 */
const struct user *
users_find(const struct users *u, const char *name, size_t len);

/*
 * 1 if u's senders cover the address addr[0..len) (local@domain, no
 * angle brackets), else 0. The domain is compared without regard to case
 * and the local part exactly, as RFC 5321 2.4 asks; "*@domain" covers
 * every local part at exactly that domain, not its subdomains.
 */
int user_may_send(const struct user *u, const char *addr, size_t len);

/* u's name, NUL-terminated, valid until users_free. */
const char *user_name(const struct user *u);

/*
 * The checks the file applies to a name and to a senders list, for tools
 * that make lines (postlet passwd). Each returns 0, or -1 with the
 * problem (without file and line) in err.
 */
int users_check_name(const char *s, size_t len, char *err, size_t errlen);
int users_check_senders(const char *s, size_t len, char *err, size_t errlen);

#endif
