/*
 * SRV answer parser for the Linux board's resolver. Contract in
 * resolve_srv.h. Bounded by len throughout; names are read with
 * dn_expand, which musl and glibc both have (the ns_* parsing helpers
 * differ between them).
 */
#include <arpa/nameser.h>
#include <resolv.h>
#include <string.h>

#include "resolve_srv.h"

#define DNS_HEADER_LEN 12

static unsigned int
get16(const unsigned char *p)
{
	return (unsigned int)p[0] << 8 | p[1];
}

/* Lower priority first; within one, higher weight first (RFC 2782). */
static int
srv_before(const struct resolve_srv *a, const struct resolve_srv *b)
{
	if (a->priority != b->priority)
		return a->priority < b->priority;
	return a->weight > b->weight;
}

/*
 * Insert s into the sorted list, keeping the best RESOLVE_SRV_MAX: with
 * more records than that, the ones tried last are the ones left out.
 */
static void
srv_insert(struct resolve_srv *list, size_t *n, const struct resolve_srv *s)
{
	size_t i = *n;

	if (i == RESOLVE_SRV_MAX) {
		if (!srv_before(s, &list[i - 1]))
			return;
		i--;
	} else {
		(*n)++;
	}
	while (i > 0 && srv_before(s, &list[i - 1])) {
		list[i] = list[i - 1];
		i--;
	}
	list[i] = *s;
}

/*
 * A target goes on to getaddrinfo and into the log; anything but a host
 * name (letters, digits, '-', '_', '.') could not be a mail server.
 */
static int
target_ok(const char *t)
{
	for (; *t != '\0'; t++)
		if (!((*t >= 'a' && *t <= 'z') || (*t >= 'A' && *t <= 'Z') ||
			    (*t >= '0' && *t <= '9') || *t == '-' ||
			    *t == '_' || *t == '.'))
			return 0;
	return 1;
}

/*
 * One SRV rdata (RFC 2782): priority, weight, port, target. Returns 1 for
 * a usable record in *s, 0 for the "." target (not offered), -1 for a
 * record that does not parse.
 */
static int
srv_rdata(const unsigned char *msg, const unsigned char *end,
	const unsigned char *p, unsigned int rdlen, struct resolve_srv *s)
{
	size_t len;
	int used;

	if (rdlen < 7)
		return -1;
	s->priority = (uint16_t)get16(p);
	s->weight = (uint16_t)get16(p + 2);
	s->port = (uint16_t)get16(p + 4);
	used = dn_expand(msg, end, p + 6, s->target, sizeof(s->target));
	if (used <= 0 || (unsigned int)used > rdlen - 6)
		return -1;
	/* musl writes the root name as "", glibc as ".". */
	if (s->target[0] == '\0' || strcmp(s->target, ".") == 0)
		return 0;
	len = strlen(s->target);
	if (s->target[len - 1] == '.')
		s->target[len - 1] = '\0';
	return target_ok(s->target) ? 1 : -1;
}

/* Step over a name in the message; -1 if it runs past the end. */
static int
skip_name(const unsigned char *msg, const unsigned char *end,
	const unsigned char **p)
{
	char scratch[1025]; /* glibc escapes odd bytes as \DDD */
	int used = dn_expand(msg, end, *p, scratch, sizeof(scratch));

	if (used <= 0 || used > end - *p)
		return -1;
	*p += used;
	return 0;
}

/* Contract in resolve_srv.h. */
int
resolve_srv_parse(const unsigned char *msg, size_t len, struct resolve_srv *out,
	size_t *n)
{
	const unsigned char *end, *p;
	unsigned int qd, an, i, type, class, rdlen;
	int malformed = 0;
	struct resolve_srv s;

	*n = 0;
	if (len < DNS_HEADER_LEN)
		return RESOLVE_ERR_TEMP;
	end = msg + len;
	p = msg + DNS_HEADER_LEN;
	if ((msg[3] & 0x0f) == 3) /* NXDOMAIN */
		return RESOLVE_ERR_NOTFOUND;
	if ((msg[3] & 0x0f) != 0)
		return RESOLVE_ERR_TEMP;
	qd = get16(msg + 4);
	an = get16(msg + 6);
	for (i = 0; i < qd && !malformed; i++)
		if (skip_name(msg, end, &p) != 0 || end - p < 4)
			malformed = 1;
		else
			p += 4;
	for (i = 0; i < an && !malformed; i++) {
		if (skip_name(msg, end, &p) != 0 || end - p < 10) {
			malformed = 1;
			break;
		}
		type = get16(p);
		class = get16(p + 2);
		rdlen = get16(p + 8);
		p += 10;
		if (rdlen > (size_t)(end - p)) {
			malformed = 1;
			break;
		}
		/* CNAMEs before the records are stepped over like this. */
		if (type == T_SRV && class == C_IN &&
			srv_rdata(msg, end, p, rdlen, &s) == 1)
			srv_insert(out, n, &s);
		p += rdlen;
	}
	if (*n > 0)
		return 0;
	return malformed ? RESOLVE_ERR_TEMP : RESOLVE_ERR_NOTFOUND;
}
