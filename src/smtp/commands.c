/*
 * The command table: each verb with the states it is allowed in, a check
 * that refuses bad arguments with a precise reply, and the action.
 */
#include <stddef.h>
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

#define IN_SESSION (STATE_BIT(STATE_GREETED) | STATE_BIT(STATE_READY))

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
	(void)args;
	s->esmtp = 1;
	session_enter_state(s, STATE_READY);
	session_reply(s, "250-%s", session_hostname());
	session_reply(s, "250-PIPELINING");
	if (s->mode == CONF_TLS_STARTTLS && !s->tls_active)
		session_reply(s, "250-STARTTLS");
	session_reply(s, "250 ENHANCEDSTATUSCODES");
}

static void
helo(struct session *s, const char *args)
{
	(void)args;
	s->esmtp = 0;
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
	session_reply(s, "250 2.0.0 Reset");
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
	{"STARTTLS", IN_SESSION, check_starttls, starttls},
	{"NOOP", IN_SESSION, check_none, noop},
	{"RSET", IN_SESSION, check_no_args, rset},
	{"QUIT", IN_SESSION, check_no_args, quit},
	{"AUTH", IN_SESSION, check_none, not_implemented},
	{"MAIL", IN_SESSION, check_none, not_implemented},
	{"RCPT", IN_SESSION, check_none, not_implemented},
	{"DATA", IN_SESSION, check_none, not_implemented},
	{"BDAT", IN_SESSION, check_none, not_implemented},
	{"VRFY", IN_SESSION, check_none, not_implemented},
	{"EXPN", IN_SESSION, check_none, not_implemented},
	{"HELP", IN_SESSION, check_none, not_implemented},
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
