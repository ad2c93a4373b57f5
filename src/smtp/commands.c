/*
 * The command table: each verb with the states it is allowed in, a check
 * that refuses bad arguments with a precise reply, and the action.
 */
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "smtp/session.h"

struct command {
	const char *verb;
	unsigned states;
	/* 0 to go on; -1 after queueing a refusal */
	int (*check)(struct session *s, const char *args);
	void (*proceed)(struct session *s, const char *args);
};

#define IN_SESSION \
	(STATE_BIT(STATE_GREETED) | STATE_BIT(STATE_READY) | \
		STATE_BIT(STATE_MAIL))
#define READY STATE_BIT(STATE_READY)
#define IN_MAIL STATE_BIT(STATE_MAIL)

static int
check_none(struct session *s, const char *args)
{
	(void)s;
	(void)args;
	return 0;
}

static int
check_no_args(struct session *s, const char *args)
{
	if (*args == '\0')
		return 0;
	session_reply(s, "501 5.5.4 This command takes no arguments");
	return -1;
}

static int
check_domain(struct session *s, const char *args)
{
	if (*args != '\0' && strchr(args, ' ') == NULL)
		return 0;
	session_reply(s, "501 5.5.4 Give your domain or address literal");
	return -1;
}

static void
ehlo(struct session *s, const char *args)
{
	const struct conf *c = session_conf();

	/* RFC 5321 4.1.4: EHLO ends any transaction, like RSET. */
	session_transaction_reset(s);
	snprintf(s->helo, sizeof(s->helo), "%s", args);
	session_enter_state(s, STATE_READY);
	session_reply(s, "250-%s", session_hostname());
	session_reply(s, "250-PIPELINING");
	session_reply(s, "250-SIZE %lu", c->max_message_size);
	session_reply(s, "250-8BITMIME");
	session_reply(s, "250-SMTPUTF8");
	if (s->mode == CONF_TLS_STARTTLS && !s->tls_active)
		session_reply(s, "250-STARTTLS");
	/* RFC 4954 4: offer AUTH only where it will be accepted. */
	if (s->tls_active && s->user == NULL)
		session_reply(s, "250-AUTH PLAIN LOGIN");
	session_reply(s, "250 ENHANCEDSTATUSCODES");
}

static void
helo(struct session *s, const char *args)
{
	session_transaction_reset(s);
	snprintf(s->helo, sizeof(s->helo), "%s", args);
	session_enter_state(s, STATE_READY);
	session_reply(s, "250 %s", session_hostname());
}

static int
check_starttls(struct session *s, const char *args)
{
	if (s->tls_active) {
		session_reply(s, "503 5.5.1 TLS is already active");
		return -1;
	}
	if (s->mode != CONF_TLS_STARTTLS) {
		session_reply(s, "502 5.5.1 STARTTLS is not offered here");
		return -1;
	}
	return check_no_args(s, args);
}

static void
starttls(struct session *s, const char *args)
{
	(void)args;
	session_reply(s, "220 2.0.0 Ready to start TLS");
	session_enter_state(s, STATE_STARTTLS);
}

static void
noop(struct session *s, const char *args)
{
	(void)args;
	session_reply(s, "250 2.0.0 OK");
}

static void
rset(struct session *s, const char *args)
{
	(void)args;
	session_transaction_reset(s);
	session_reply(s, "250 2.0.0 Reset");
}

static int
check_auth(struct session *s, const char *args)
{
	if (!s->tls_active) {
		session_reply(s,
			"538 5.7.11 Encryption required for "
			"requested authentication mechanism");
		return -1;
	}
	if (s->user != NULL) {
		session_reply(s, "503 5.5.1 Already authenticated");
		return -1;
	}
	if (*args == '\0') {
		session_reply(s, "501 5.5.4 Syntax: AUTH mechanism");
		return -1;
	}
	return 0;
}

static void
auth(struct session *s, const char *args)
{
	smtp_auth_start(s, args);
}

static void
mail(struct session *s, const char *args)
{
	smtp_mail(s, args);
}

static void
rcpt(struct session *s, const char *args)
{
	smtp_rcpt(s, args);
}

static void
data(struct session *s, const char *args)
{
	smtp_data(s, args);
}

/* RFC 5321 3.5.3: 252 when postlet will not say who exists. */
static void
vrfy(struct session *s, const char *args)
{
	(void)args;
	session_reply(s,
		"252 2.5.0 Cannot VRFY user, but will accept "
		"message and attempt delivery");
}

static void
help(struct session *s, const char *args)
{
	(void)args;
	session_reply(s,
		"214-2.0.0 postlet, a mail submission agent "
		"(RFC 6409)");
	session_reply(s,
		"214-2.0.0 Commands: EHLO HELO STARTTLS AUTH MAIL "
		"RCPT DATA RSET NOOP VRFY HELP QUIT");
	session_reply(s, "214 2.0.0 End of HELP");
}

static void
quit(struct session *s, const char *args)
{
	(void)args;
	session_reply(s, "221 2.0.0 %s Closing connection", session_hostname());
	s->close_reason = "quit";
	session_enter_state(s, STATE_CLOSING);
}

/* Verbs that exist in submission but are not built yet. */
static void
not_implemented(struct session *s, const char *args)
{
	(void)args;
	session_reply(s, "502 5.5.1 Command not implemented");
}

static const struct command commands[] = {
	{"EHLO", IN_SESSION, check_domain, ehlo},
	{"HELO", IN_SESSION, check_domain, helo},
	{"STARTTLS", STATE_BIT(STATE_GREETED) | READY, check_starttls,
		starttls},
	{"NOOP", IN_SESSION, check_none, noop},
	{"RSET", IN_SESSION, check_no_args, rset},
	{"QUIT", IN_SESSION, check_no_args, quit},
	{"AUTH", READY, check_auth, auth},
	{"MAIL", READY, check_none, mail},
	{"RCPT", IN_MAIL, check_none, rcpt},
	{"DATA", IN_MAIL, check_none, data},
	{"VRFY", IN_SESSION, check_none, vrfy},
	{"HELP", IN_SESSION, check_none, help},
	/* Known verbs postlet does not offer (RFC 3030, RFC 5321 3.5). */
	{"BDAT", IN_SESSION, check_none, not_implemented},
	{"EXPN", IN_SESSION, check_none, not_implemented},
};

static const struct command *
lookup(const char *verb, size_t len)
{
	size_t i;

	for (i = 0; i < sizeof(commands) / sizeof(commands[0]); i++) {
		if (strlen(commands[i].verb) == len &&
			strncasecmp(commands[i].verb, verb, len) == 0)
			return &commands[i];
	}
	return NULL;
}

/* Commands are ASCII text (RFC 5321 2.4); control bytes are refused. */
static int
printable(const char *line)
{
	const unsigned char *p;

	for (p = (const unsigned char *)line; *p != '\0'; p++) {
		if (*p < 0x20 && *p != '\t')
			return 0;
		if (*p == 0x7f)
			return 0;
	}
	return 1;
}

void
smtp_command_dispatch(struct session *s, char *line)
{
	const struct command *cmd;
	size_t verblen = strcspn(line, " ");
	const char *args = line + verblen;

	s->commands++;
	if (!printable(line)) {
		session_reply(s, "500 5.5.2 Control characters in command");
		return;
	}
	if (*args == ' ')
		args++;
	cmd = lookup(line, verblen);
	if (cmd == NULL) {
		session_reply(s, "500 5.5.1 Command unrecognized");
		return;
	}
	if ((cmd->states & STATE_BIT(s->state)) == 0) {
		session_reply(s, "503 5.5.1 Bad sequence of commands");
		return;
	}
	if (cmd->check(s, args) == 0)
		cmd->proceed(s, args);
}
