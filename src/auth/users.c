/*
 * The users file (users.h): parsed once per load into one block that holds
 * the set, its users sorted by name and a copy of the text the users point
 * into, so that a set is freed with one call and lookups need no
 * allocation.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "auth/shacrypt.h"
#include "auth/users.h"
#include "dname.h"
#include "file.h"

#define QUOTE_MAX 40 /* how much of a bad token a message quotes */
#define LOCAL_MAX 64 /* RFC 5321 4.5.3.1.1 */

struct user {
	const char *name; /* NUL-terminated, in the set's text */
	size_t namelen;
	struct shacrypt_setting setting;
	const char *digest; /* shacrypt_digest_len() characters */
	const char *senders; /* "a@b,*@c": trimmed, NUL-terminated */
	unsigned lineno;
};

struct users {
	size_t n;
	struct user *v; /* sorted by name */
	struct shacrypt_setting dummy; /* hashed for unknown names */
	char *text;
};

/* What an unknown name is hashed with; its digest is never compared. */
static const char dummy_salt[] = "postlet.dummy.sa";
static const char dummy_digest[SHACRYPT_DIGEST_MAX];

static int __attribute__((format(printf, 3, 4)))
problem(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (errlen == 0)
		return -1;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	return -1;
}

/* How much of a token of len bytes a message quotes ("%.*s"). */
static int
quote_len(size_t len)
{
	return len < QUOTE_MAX ? (int)len : QUOTE_MAX;
}

static int
is_alnum(char ch)
{
	return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
		(ch >= '0' && ch <= '9');
}

static char
lower(char ch)
{
	return ch >= 'A' && ch <= 'Z' ? (char)(ch - 'A' + 'a') : ch;
}

/* The last '@' of s[0..len), or NULL: a local part may hold one quoted. */
static const char *
last_at(const char *s, size_t len)
{
	while (len-- > 0)
		if (s[len] == '@')
			return s + len;
	return NULL;
}

int
users_check_name(const char *s, size_t len, char *err, size_t errlen)
{
	size_t i;

	for (i = 0; i < len; i++)
		if (!is_alnum(s[i]) && !strchr("._@+-", s[i]))
			break;
	if (len == 0 || len > USERS_NAME_MAX || i < len)
		return problem(err, errlen,
			"bad user name '%.*s': want 1 to %d letters, digits "
			"or ._@+-",
			quote_len(len), s, USERS_NAME_MAX);
	return 0;
}

/* A dot-atom of RFC 5322 3.2.3: atext runs joined by single dots. */
static int
local_ok(const char *s, size_t len)
{
	static const char atext[] = "!#$%&'*+-/=?^_`{|}~";
	size_t i;

	if (len == 0 || len > LOCAL_MAX || s[0] == '.' || s[len - 1] == '.')
		return 0;
	for (i = 0; i < len; i++) {
		if (s[i] == '.' && s[i + 1] == '.')
			return 0;
		if (!is_alnum(s[i]) && s[i] != '.' && !strchr(atext, s[i]))
			return 0;
	}
	return 1;
}

static int
sender_ok(const char *s, size_t len)
{
	const char *at = last_at(s, len);
	size_t n;

	if (at == NULL)
		return 0;
	n = (size_t)(at - s);
	if (!(n == 1 && s[0] == '*') && !local_ok(s, n))
		return 0;
	return dname_valid(at + 1, len - n - 1);
}

static int
is_blank(char ch)
{
	return ch == ' ' || ch == '\t';
}

/*
 * Check the comma list s[0..len), its items trimmed of blanks. When dst
 * is not NULL the trimmed items are written there joined by commas; dst
 * may be s itself, since it never runs ahead of the reading. Returns the
 * length written, or -1 with the problem in err.
 */
static long
scan_senders(const char *s, size_t len, char *dst, char *err, size_t errlen)
{
	size_t pos = 0, out = 0;

	for (;;) {
		const char *comma = memchr(s + pos, ',', len - pos);
		size_t end = comma ? (size_t)(comma - s) : len;
		size_t a = pos, b = end;

		while (a < b && is_blank(s[a]))
			a++;
		while (b > a && is_blank(s[b - 1]))
			b--;
		if (a == b && comma == NULL && out == 0)
			return problem(err, errlen, "no senders");
		if (a == b)
			return problem(err, errlen, "empty sender in the list");
		if (!sender_ok(s + a, b - a))
			return problem(err, errlen,
				"bad sender '%.*s': want local@domain or "
				"*@domain",
				quote_len(b - a), s + a);
		if (dst != NULL) {
			if (out > 0)
				dst[out] = ',';
			out += out > 0;
			memmove(dst + out, s + a, b - a);
		}
		out += b - a;
		if (comma == NULL)
			return (long)out;
		pos = end + 1;
	}
}

int
users_check_senders(const char *s, size_t len, char *err, size_t errlen)
{
	return scan_senders(s, len, NULL, err, errlen) < 0 ? -1 : 0;
}

/* The "$id$" of a refused hash, for the message: MD5 gets its own. */
static int
bad_scheme(const char *s, size_t len, char *err, size_t errlen)
{
	const char *dollar = memchr(s + 1, '$', len - 1);
	size_t n = dollar ? (size_t)(dollar - s) + 1 : len;

	if (n == 3 && s[1] == '1')
		return problem(err, errlen,
			"unknown hash scheme '$1$': MD5 is too weak; want $5$ "
			"or $6$ (SHA-crypt)");
	return problem(err, errlen,
		"unknown hash scheme '%.*s': want $5$ or $6$ (SHA-crypt, "
		"as 'mkpasswd -m sha-512' makes)",
		(int)(n < 12 ? n : 12), s);
}

static int
check_setting(const char *s, size_t len, struct shacrypt_setting *st,
	size_t *end, char *err, size_t errlen)
{
	switch (shacrypt_parse(s, len, st, end)) {
	case SHACRYPT_OK:
		break;
	case SHACRYPT_ERR_SCHEME:
		return bad_scheme(s, len, err, errlen);
	case SHACRYPT_ERR_ROUNDS:
		return problem(err, errlen,
			"bad hash form: 'rounds=' wants a number and '$'");
	default:
		return problem(err, errlen,
			"bad hash form: want $5$... or $6$... (DES hashes and "
			"plain passwords are refused)");
	}
	if (st->rounds > USERS_ROUNDS_MAX)
		return problem(err, errlen,
			"rounds=%lu is over %d: one login would stall every "
			"session while it is hashed",
			st->rounds, USERS_ROUNDS_MAX);
	return 0;
}

/* The hash field s[0..len): setting, '$', digest. */
static int
check_hash(
	const char *s, size_t len, struct user *usr, char *err, size_t errlen)
{
	size_t end, dlen, i;

	if (check_setting(s, len, &usr->setting, &end, err, errlen) != 0)
		return -1;
	if (end < len && s[end] != '$')
		return problem(err, errlen,
			"bad hash form: salt longer than %d characters",
			SHACRYPT_SALT_MAX);
	dlen = shacrypt_digest_len(usr->setting.scheme);
	for (i = end + 1; i < len; i++)
		if (!is_alnum(s[i]) && s[i] != '.' && s[i] != '/')
			break;
	if (end == len || len - end - 1 != dlen || i < len)
		return problem(err, errlen,
			"bad hash form: want %zu characters of [./0-9A-Za-z] "
			"after the salt",
			dlen);
	usr->digest = s + end + 1;
	return 0;
}

/*
 * One user line, NUL-terminated in the set's text: its fields are cut in
 * place and the senders list compacted.
 */
static int
parse_user(char *line, size_t len, struct user *usr, char *err, size_t errlen)
{
	char *c1 = memchr(line, ':', len), *c2, *senders;
	long n;

	c2 = c1 ? memchr(c1 + 1, ':', len - (size_t)(c1 + 1 - line)) : NULL;
	if (c2 == NULL)
		return problem(err, errlen, "want NAME:HASH:SENDERS");
	*c1 = *c2 = '\0';
	usr->name = line;
	usr->namelen = (size_t)(c1 - line);
	if (users_check_name(line, usr->namelen, err, errlen) != 0)
		return -1;
	if (check_hash(c1 + 1, (size_t)(c2 - c1 - 1), usr, err, errlen) != 0)
		return -1;
	senders = c2 + 1;
	n = scan_senders(
		senders, len - (size_t)(senders - line), senders, err, errlen);
	if (n < 0)
		return -1;
	senders[n] = '\0';
	usr->senders = senders;
	return 0;
}

/* Where the parse stands, for "name:line: problem". */
struct parse {
	const char *name;
	unsigned lineno;
	char *err;
	size_t errlen;
};

static int __attribute__((format(printf, 2, 3)))
fail(struct parse *p, const char *fmt, ...)
{
	char msg[USERS_ERROR_MAX];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (p->lineno > 0)
		return problem(p->err, p->errlen, "%s:%u: %s", p->name,
			p->lineno, msg);
	return problem(p->err, p->errlen, "%s: %s", p->name, msg);
}

/* A line that holds a user, not a blank or "#" comment line. */
static int
is_user_line(const char *s, size_t len)
{
	size_t i = 0;

	while (i < len && is_blank(s[i]))
		i++;
	return i < len && s[i] != '#' && s[i] != '\r';
}

/* The line s[0..len), its LF taken off; NUL-terminates it in place. */
static int
parse_line(struct parse *p, struct users *u, char *s, size_t len)
{
	char msg[USERS_ERROR_MAX];
	size_t i;

	/* A CR before the LF is what other editors write; tolerate it. */
	if (len > 0 && s[len - 1] == '\r')
		len--;
	s[len] = '\0';
	if (len > USERS_LINE_MAX)
		return fail(p, "line longer than %d bytes", USERS_LINE_MAX);
	for (i = 0; i < len; i++) {
		unsigned char ch = (unsigned char)s[i];

		if ((ch < 0x20 && ch != '\t') || ch == 0x7f)
			return fail(p, "unexpected control byte 0x%02x", ch);
	}
	if (!is_user_line(s, len))
		return 0;
	if (u->n == USERS_COUNT_MAX)
		return fail(p, "more than %d users", USERS_COUNT_MAX);
	if (parse_user(s, len, &u->v[u->n], msg, sizeof(msg)) != 0)
		return fail(p, "%s", msg);
	u->v[u->n++].lineno = p->lineno;
	return 0;
}

static int
compare_names(const char *a, size_t alen, const char *b, size_t blen)
{
	int c = memcmp(a, b, alen < blen ? alen : blen);

	if (c != 0)
		return c;
	return alen < blen ? -1 : alen > blen;
}

static int
compare_users(const void *a, const void *b)
{
	const struct user *x = a, *y = b;

	return compare_names(x->name, x->namelen, y->name, y->namelen);
}

/* Sort by name, then refuse the earliest line that repeats a name. */
static int
sort_users(struct parse *p, struct users *u)
{
	const struct user *dup = NULL, *first = NULL;
	size_t i;

	qsort(u->v, u->n, sizeof(u->v[0]), compare_users);
	for (i = 1; i < u->n; i++) {
		const struct user *a = &u->v[i - 1], *b = &u->v[i];

		if (compare_users(a, b) != 0)
			continue;
		if (a->lineno > b->lineno) {
			const struct user *t = a;

			a = b;
			b = t;
		}
		if (dup == NULL || b->lineno < dup->lineno) {
			dup = b;
			first = a;
		}
	}
	if (dup == NULL)
		return 0;
	p->lineno = dup->lineno;
	return fail(p, "duplicate user '%s' (also on line %u)", dup->name,
		first->lineno);
}

/* Upper bound of users in buf, to size the set before parsing. */
static size_t
count_users(const char *buf, size_t len)
{
	size_t pos = 0, n = 0;

	while (pos < len && n <= USERS_COUNT_MAX) {
		const char *nl = memchr(buf + pos, '\n', len - pos);
		size_t end = nl ? (size_t)(nl - buf) : len;

		n += is_user_line(buf + pos, end - pos);
		pos = end + 1;
	}
	return n;
}

/* One block: the set, then its users, then the text they point into. */
static struct users *
users_alloc(const char *buf, size_t len)
{
	size_t n = count_users(buf, len);
	struct users *u;

	if (n > USERS_COUNT_MAX)
		n = USERS_COUNT_MAX;
	u = malloc(sizeof(*u) + n * sizeof(struct user) + len + 1);
	if (u == NULL)
		return NULL;
	u->n = 0;
	u->v = (struct user *)(u + 1);
	u->text = (char *)(u->v + n);
	memcpy(u->text, buf, len);
	u->text[len] = '\0';
	return u;
}

/* Unknown names cost what the first user costs (users.h). */
static void
set_dummy(struct users *u)
{
	u->dummy.scheme = 6;
	u->dummy.rounds = SHACRYPT_ROUNDS_DEFAULT;
	if (u->n > 0) {
		u->dummy.scheme = u->v[0].setting.scheme;
		u->dummy.rounds = u->v[0].setting.rounds;
	}
	u->dummy.rounds_given = 0;
	u->dummy.salt = dummy_salt;
	u->dummy.saltlen = sizeof(dummy_salt) - 1;
}

int
users_parse(struct users **out, const char *name, const char *buf, size_t len,
	char *err, size_t errlen)
{
	struct parse p = {name, 0, err, errlen};
	struct users *u;
	size_t pos = 0;

	if (len > USERS_FILE_MAX)
		return fail(&p, "larger than %d bytes", USERS_FILE_MAX);
	u = users_alloc(buf, len);
	if (u == NULL)
		return fail(&p, "%s", strerror(ENOMEM));
	/* What a UTF-8 editor may put in front of the first line. */
	if (len >= 3 && memcmp(buf, "\xef\xbb\xbf", 3) == 0)
		pos = 3;
	while (pos < len) {
		char *nl = memchr(u->text + pos, '\n', len - pos);
		size_t end = nl ? (size_t)(nl - u->text) : len;

		p.lineno++;
		if (parse_line(&p, u, u->text + pos, end - pos) != 0)
			goto fail;
		pos = end + 1;
	}
	if (sort_users(&p, u) != 0)
		goto fail;
	set_dummy(u);
	*out = u;
	return 0;
fail:
	free(u);
	return -1;
}

/* One byte more than allowed is read to tell a full file from a long one */
struct users *
users_load(const char *path, char *err, size_t errlen)
{
	char *buf = malloc(USERS_FILE_MAX + 1);
	struct users *u = NULL;
	size_t len = 0;
	int e;

	if (buf == NULL) {
		problem(err, errlen, "%s: %s", path, strerror(ENOMEM));
		return NULL;
	}
	e = file_read(path, buf, USERS_FILE_MAX + 1, &len);
	if (e != 0)
		problem(err, errlen, "%s: %s", path, strerror(e));
	else
		users_parse(&u, path, buf, len, err, errlen);
	free(buf);
	return u;
}

void
users_free(struct users *u)
{
	free(u);
}

size_t
users_count(const struct users *u)
{
	return u ? u->n : 0;
}

const char *
user_name(const struct user *u)
{
	return u->name;
}

const struct user *
users_find(const struct users *u, const char *name, size_t len)
{
	size_t lo = 0, hi = u ? u->n : 0;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = compare_names(
			name, len, u->v[mid].name, u->v[mid].namelen);

		if (c == 0)
			return &u->v[mid];
		if (c < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	return NULL;
}

/* Equal or not in time that depends on len only. */
static int
same_bytes(const char *a, const char *b, size_t len)
{
	unsigned char d = 0;
	size_t i;

	for (i = 0; i < len; i++)
		d |= (unsigned char)(a[i] ^ b[i]);
	return d == 0;
}

void
users_check_start(const struct users *u, const char *name, size_t namelen,
	const char *pw, size_t pwlen, struct users_check *c)
{
	const struct user *found;

	c->user = NULL;
	if (u == NULL) {
		shacrypt_job_wipe(&c->job);
		return;
	}
	found = users_find(u, name, namelen);
	if (pwlen > USERS_PASSWORD_MAX) {
		found = NULL;
		pwlen = USERS_PASSWORD_MAX;
	}
	c->user = found;
	shacrypt_job_start(
		&c->job, found ? &found->setting : &u->dummy, pw, pwlen);
}

int
users_check_step(struct users_check *c, unsigned long max_rounds)
{
	return shacrypt_job_step(&c->job, max_rounds);
}

/*
 * The digest is compared even when no user can match, and with the
 * dummy, so that the answer takes as long either way.
 */
const struct user *
users_check_result(struct users_check *c)
{
	const struct user *found = c->user;
	char got[SHACRYPT_DIGEST_MAX];
	int done = shacrypt_job_step(&c->job, 0);
	size_t n = shacrypt_job_finish(&c->job, got);
	int same = same_bytes(got, found ? found->digest : dummy_digest, n);

	c->user = NULL;
	return found != NULL && same && done ? found : NULL;
}

const struct user *
users_authenticate(const struct users *u, const char *name, size_t namelen,
	const char *password, size_t pwlen)
{
	struct users_check c;

	users_check_start(u, name, namelen, password, pwlen, &c);
	users_check_step(&c, ULONG_MAX);
	return users_check_result(&c);
}

/* RFC 5321 2.4: domains are compared without regard to case. */
static int
same_domain(const char *a, size_t alen, const char *b, size_t blen)
{
	size_t i;

	if (alen != blen)
		return 0;
	for (i = 0; i < alen; i++)
		if (lower(a[i]) != lower(b[i]))
			return 0;
	return 1;
}

/* Does the grant g[0..glen) cover local[0..llen) at domain[0..dlen)? */
static int
grant_covers(const char *g, size_t glen, const char *local, size_t llen,
	const char *domain, size_t dlen)
{
	const char *at = last_at(g, glen);
	size_t gl = (size_t)(at - g);

	if (!same_domain(at + 1, glen - gl - 1, domain, dlen))
		return 0;
	if (gl == 1 && g[0] == '*')
		return 1;
	return gl == llen && memcmp(g, local, llen) == 0;
}

int
user_may_send(const struct user *u, const char *addr, size_t len)
{
	const char *at = last_at(addr, len);
	const char *g = u->senders;
	size_t llen;

	if (at == NULL || at == addr || at == addr + len - 1)
		return 0;
	llen = (size_t)(at - addr);
	for (;;) {
		const char *comma = strchr(g, ',');
		size_t glen = comma ? (size_t)(comma - g) : strlen(g);

		if (grant_covers(g, glen, addr, llen, at + 1, len - llen - 1))
			return 1;
		if (comma == NULL)
			return 0;
		g = comma + 1;
	}
}
