/*
 * Envelope paths (RFC 5321 4.1.2) and MAIL parameters. The grammar is
 * checked strictly enough that what postlet passes upstream is always a
 * well-formed path, and leniently where real clients differ harmlessly
 * (case of keywords, a source route to be ignored).
 */
#include <string.h>
#include <strings.h>

#include "smtp/path.h"

/* atext of RFC 5322 3.2.3, plus UTF-8 bytes (RFC 6531 3.3). */
static int
is_atext(unsigned char c)
{
	if (c >= 0x80)
		return 1;
	if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		(c >= '0' && c <= '9'))
		return 1;
	return c != '\0' && strchr("!#$%&'*+-/=?^_`{|}~", c) != NULL;
}

/* Length of a dot-string (RFC 5321 4.1.2) at s, or 0 if there is none. */
static size_t
dot_string(const char *s)
{
	size_t i = 0;

	for (;;) {
		size_t start = i;

		while (is_atext((unsigned char)s[i]))
			i++;
		if (i == start)
			return 0;
		if (s[i] != '.')
			return i;
		i++;
	}
}

/* Length of a quoted-string at s including its quotes, or 0. */
static size_t
quoted_string(const char *s)
{
	size_t i = 1;

	if (s[0] != '"')
		return 0;
	for (; s[i] != '"'; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c == '\\') {
			i++;
			c = (unsigned char)s[i];
			if (c < 0x20 || c == 0x7f)
				return 0;
		} else if (c < 0x20 || c == 0x7f) {
			return 0;
		}
	}
	return i + 1;
}

/* Let-dig and hyphen of RFC 5321 4.1.2, plus UTF-8 (RFC 6531 3.3). */
static int
is_ldh(unsigned char c)
{
	return c >= 0x80 || c == '-' || (c >= '0' && c <= '9') ||
		(c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

/* Length of a domain or address literal at s, or 0 if there is none. */
static size_t
domain_len(const char *s)
{
	size_t i = 0;

	if (s[0] == '[') {
		size_t n = strcspn(s, "]>");

		/* Address literal: the upstream checks what is inside. */
		if (s[n] != ']' || n < 2)
			return 0;
		return n + 1;
	}
	for (;;) {
		size_t start = i;

		while (is_ldh((unsigned char)s[i]))
			i++;
		if (i == start || s[start] == '-' || s[i - 1] == '-')
			return 0;
		if (s[i] != '.')
			return i;
		i++;
	}
}

/* Skip "@a,@b:" of a source route, which RFC 5321 4.1.2 says to ignore. */
static const char *
skip_route(const char *s)
{
	while (*s == '@') {
		size_t n = domain_len(s + 1);

		if (n == 0)
			return NULL;
		s += 1 + n;
		if (*s == ',')
			s++;
		else if (*s == ':')
			return s + 1;
		else
			return NULL;
	}
	return s;
}

static enum path_err
store(struct smtp_path *out, const char *local, size_t llen, const char *domain,
	size_t dlen)
{
	size_t i;

	if (llen + 1 + dlen > SMTP_ADDR_MAX - 2)
		return PATH_ERR_TOO_LONG;
	memcpy(out->addr, local, llen);
	out->addr[llen] = '@';
	memcpy(out->addr + llen + 1, domain, dlen);
	out->len = llen + 1 + dlen;
	out->addr[out->len] = '\0';
	for (i = 0; i < out->len; i++)
		if ((unsigned char)out->addr[i] >= 0x80)
			out->utf8 = 1;
	return PATH_OK;
}

enum path_err
smtp_path_parse(const char *s, const char *domain, int allow_null,
	struct smtp_path *out, const char **rest)
{
	const char *p, *local;
	size_t llen, dlen;

	memset(out, 0, sizeof(*out));
	if (s[0] != '<')
		return PATH_ERR_SYNTAX;
	if (s[1] == '>') {
		if (!allow_null)
			return PATH_ERR_SYNTAX;
		out->null = 1;
		*rest = s + 2;
		return PATH_OK;
	}
	if (strcspn(s, ">") > SMTP_ADDR_MAX)
		return PATH_ERR_TOO_LONG;
	p = skip_route(s + 1);
	if (p == NULL)
		return PATH_ERR_SYNTAX;
	local = p;
	llen = *p == '"' ? quoted_string(p) : dot_string(p);
	if (llen == 0 || llen > 64)
		return llen > 64 ? PATH_ERR_TOO_LONG : PATH_ERR_SYNTAX;
	p += llen;
	if (*p == '>') {
		if (domain == NULL || *domain == '\0')
			return PATH_ERR_SYNTAX;
		out->qualified = 1;
		*rest = p + 1;
		return store(out, local, llen, domain, strlen(domain));
	}
	if (*p != '@')
		return PATH_ERR_SYNTAX;
	dlen = domain_len(p + 1);
	if (dlen == 0 || p[1 + dlen] != '>')
		return PATH_ERR_SYNTAX;
	*rest = p + 2 + dlen;
	return store(out, local, llen, p + 1, dlen);
}

/* A decimal number for SIZE: digits only, no overflow. */
static int
size_value(const char *s, size_t len, unsigned long *out)
{
	unsigned long v = 0;
	size_t i;

	if (len == 0 || len > 10)
		return -1;
	for (i = 0; i < len; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (unsigned long)(s[i] - '0');
	}
	*out = v;
	return 0;
}

static int
keyword_is(const char *s, size_t len, const char *kw)
{
	return strlen(kw) == len && strncasecmp(s, kw, len) == 0;
}

static enum params_err
mail_param(const char *s, size_t len, struct smtp_mail_params *p)
{
	size_t klen = strcspn(s, "=");
	const char *v = s + klen + 1;
	size_t vlen = klen < len ? len - klen - 1 : 0;

	if (klen > len)
		klen = len;
	if (keyword_is(s, klen, "SIZE")) {
		if (klen == len || size_value(v, vlen, &p->size) != 0)
			return PARAMS_ERR_SIZE;
		return PARAMS_OK;
	}
	if (keyword_is(s, klen, "BODY") && klen < len) {
		if (keyword_is(v, vlen, "8BITMIME"))
			p->body_8bit = 1;
		else if (!keyword_is(v, vlen, "7BIT"))
			return PARAMS_ERR_SYNTAX;
		return PARAMS_OK;
	}
	if (keyword_is(s, klen, "SMTPUTF8") && klen == len) {
		p->smtputf8 = 1;
		return PARAMS_OK;
	}
	/* RFC 4954 5: AUTH= is for relays between trusted servers. */
	if (keyword_is(s, klen, "AUTH") && klen < len)
		return PARAMS_OK;
	return PARAMS_ERR_UNKNOWN;
}

enum params_err
smtp_mail_params_parse(
	const char *s, struct smtp_mail_params *p, const char **bad)
{
	memset(p, 0, sizeof(*p));
	while (*s != '\0') {
		size_t len;
		enum params_err e;

		if (*s != ' ') {
			*bad = s;
			return PARAMS_ERR_SYNTAX;
		}
		while (*s == ' ')
			s++;
		len = strcspn(s, " ");
		if (len == 0)
			break;
		e = mail_param(s, len, p);
		if (e != PARAMS_OK) {
			*bad = s;
			return e;
		}
		s += len;
	}
	return PARAMS_OK;
}

enum params_err
smtp_rcpt_params_parse(const char *s, const char **bad)
{
	while (*s == ' ')
		s++;
	if (*s == '\0')
		return PARAMS_OK;
	*bad = s;
	return PARAMS_ERR_UNKNOWN;
}
