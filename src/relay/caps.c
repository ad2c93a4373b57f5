/* EHLO keyword parser; the contract is in caps.h. */
#include <string.h>
#include <strings.h>

#include "relay/caps.h"

static const struct {
	const char *keyword;
	unsigned flag;
} keywords[] = {
	{"PIPELINING", RELAY_CAP_PIPELINING},
	{"SIZE", RELAY_CAP_SIZE},
	{"8BITMIME", RELAY_CAP_8BITMIME},
	{"SMTPUTF8", RELAY_CAP_SMTPUTF8},
	{"STARTTLS", RELAY_CAP_STARTTLS},
	{"AUTH", RELAY_CAP_AUTH},
	{"ENHANCEDSTATUSCODES", RELAY_CAP_ENHANCEDSTATUSCODES},
};

void
relay_caps_reset(struct relay_caps *c)
{
	memset(c, 0, sizeof(*c));
}

/* Length of the word at s, up to a space, '=' (for AUTH=) or the end. */
static size_t
word_len(const char *s)
{
	size_t n = 0;

	while (s[n] != '\0' && s[n] != ' ' && s[n] != '=')
		n++;
	return n;
}

/* RFC 1870 4: SIZE with a number of at most 20 digits, 0 for no limit. */
static void
size_param(struct relay_caps *c, const char *s)
{
	uint32_t v = 0;

	if (*s < '0' || *s > '9')
		return;
	for (; *s >= '0' && *s <= '9'; s++) {
		if (v > (UINT32_MAX - 9) / 10) {
			v = UINT32_MAX; /* larger than anything we send */
			break;
		}
		v = v * 10 + (uint32_t)(*s - '0');
	}
	c->size_max = v;
}

/* Mechanism names, separated by spaces (RFC 4954 3). */
static void
auth_params(struct relay_caps *c, const char *s)
{
	while (*s != '\0') {
		size_t n;

		while (*s == ' ')
			s++;
		n = word_len(s);
		if (n == 5 && strncasecmp(s, "PLAIN", 5) == 0)
			c->auth |= RELAY_AUTH_PLAIN;
		else if (n == 5 && strncasecmp(s, "LOGIN", 5) == 0)
			c->auth |= RELAY_AUTH_LOGIN;
		else if (n > 0)
			c->auth |= RELAY_AUTH_OTHER;
		s += n;
		if (*s == '=')
			s++;
	}
}

void
relay_caps_line(struct relay_caps *c, const char *text)
{
	size_t n = word_len(text), i;
	const char *param = text + n;

	/* Old servers write "AUTH=LOGIN"; it means what "AUTH LOGIN" does. */
	if (*param == ' ' || *param == '=')
		param++;
	for (i = 0; i < sizeof(keywords) / sizeof(keywords[0]); i++) {
		if (strlen(keywords[i].keyword) != n ||
			strncasecmp(text, keywords[i].keyword, n) != 0)
			continue;
		c->flags |= keywords[i].flag;
		if (keywords[i].flag == RELAY_CAP_SIZE)
			size_param(c, param);
		else if (keywords[i].flag == RELAY_CAP_AUTH)
			auth_params(c, param);
		return;
	}
}
