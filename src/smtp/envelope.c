/*
 * MAIL, RCPT and DATA: what postlet itself checks before the upstream is
 * asked (RFC 5321 3.3, RFC 6409 4 and 5). Only an authenticated user may
 * start a transaction, and only from an address the users file grants.
 */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "auth/rate.h"
#include "log.h"
#include "smtp/session.h"

/* Text after "FROM:" or "TO:"; NULL if the keyword is missing. */
static const char *
after_keyword(const char *args, const char *kw)
{
	size_t n = strlen(kw);

	if (strncasecmp(args, kw, n) != 0)
		return NULL;
	args += n;
	/* Not in RFC 5321, but common: "MAIL FROM: <a@b>". */
	while (*args == ' ')
		args++;
	return args;
}

static int
need_user(struct session *s)
{
	if (s->user != NULL)
		return 0;
	/* RFC 6409 5.3 and RFC 4954 6: no transaction without AUTH. */
	if (!s->tls_active)
		session_reply(s,
			"530 5.7.0 Must issue a STARTTLS command "
			"first");
	else
		session_reply(s, "530 5.7.0 Authentication required");
	return -1;
}

static int
path_error(struct session *s, enum path_err e, const char *which)
{
	if (e == PATH_ERR_TOO_LONG)
		session_reply(s, "501 %s Address too long", which);
	else
		session_reply(s, "501 %s Bad address syntax", which);
	return -1;
}

static int
params_error(struct session *s, enum params_err e, const char *bad)
{
	char esc[64];
	size_t len = strcspn(bad, " ");

	log_escape(esc, sizeof(esc), bad, len);
	if (e == PARAMS_ERR_UNKNOWN)
		session_reply(s, "555 5.5.4 Unsupported parameter %s", esc);
	else
		session_reply(s, "501 5.5.4 Bad parameter %s", esc);
	return -1;
}

static int
mail_policy(struct session *s)
{
	const struct conf *c = session_conf();
	const char *name = user_name(s->user);

	if (s->from.utf8 && !s->mail.smtputf8) {
		session_reply(s, "553 5.6.7 Non-ASCII address needs SMTPUTF8");
		return -1;
	}
	if (s->mail.size > c->max_message_size) {
		session_reply(s,
			"552 5.3.4 Message size exceeds fixed "
			"maximum message size");
		return -1;
	}
	if (s->from.null ||
		!user_may_send(s->user, s->from.addr, s->from.len)) {
		session_reply(s,
			"553 5.7.1 Sender address <%s> is not "
			"granted to %s",
			s->from.addr, name);
		return -1;
	}
	if (rate_allow_message(name, strlen(name)) != 0) {
		session_reply(s,
			"450 4.7.1 Hourly message limit of %s "
			"reached, try again later",
			name);
		return -1;
	}
	return 0;
}

void
smtp_mail(struct session *s, const char *args)
{
	const char *p = after_keyword(args, "FROM:"), *rest, *bad = NULL;
	enum path_err pe;
	enum params_err qe;

	if (need_user(s) != 0)
		return;
	if (p == NULL) {
		session_reply(s, "501 5.5.4 Syntax: MAIL FROM:<address>");
		return;
	}
	pe = smtp_path_parse(p, session_conf()->domain, 1, &s->from, &rest);
	if (pe != PATH_OK) {
		path_error(s, pe, "5.1.7");
		return;
	}
	qe = smtp_mail_params_parse(rest, &s->mail, &bad);
	if (qe != PARAMS_OK) {
		params_error(s, qe, bad);
		return;
	}
	if (mail_policy(s) != 0) {
		log_event(LOG_LEVEL_WARNING, s->id, "mail",
			"user=%s from=<%s> result=refused", user_name(s->user),
			s->from.addr);
		return;
	}
	/* The envelope counts are clear: MAIL comes only after a reset. */
	smtp_proxy_mail(s);
}

void
smtp_rcpt(struct session *s, const char *args)
{
	const struct conf *c = session_conf();
	const char *p = after_keyword(args, "TO:"), *rest, *bad = NULL;
	const char *name = user_name(s->user);
	struct smtp_path to;
	enum path_err pe;
	enum params_err qe;

	if (p == NULL) {
		session_reply(s, "501 5.5.4 Syntax: RCPT TO:<address>");
		return;
	}
	pe = smtp_path_parse(p, c->domain, 0, &to, &rest);
	if (pe != PATH_OK) {
		path_error(s, pe, "5.1.3");
		return;
	}
	qe = smtp_rcpt_params_parse(rest, &bad);
	if (qe != PARAMS_OK) {
		params_error(s, qe, bad);
		return;
	}
	s->rcpt_tried++;
	if (to.utf8 && !s->mail.smtputf8) {
		session_reply(s, "553 5.6.7 Non-ASCII address needs SMTPUTF8");
		return;
	}
	/* RFC 5321 4.5.3.1.10: too many recipients is a temporary 452. */
	if (s->rcpt_ok >= c->max_recipients) {
		session_reply(s, "452 4.5.3 Too many recipients");
		return;
	}
	if (rate_allow_recipients(name, strlen(name), 1) != 0) {
		session_reply(s,
			"450 4.7.1 Hourly recipient limit of %s "
			"reached, try again later",
			name);
		return;
	}
	smtp_proxy_rcpt(s, &to);
}

void
smtp_data(struct session *s, const char *args)
{
	if (*args != '\0') {
		session_reply(s, "501 5.5.4 DATA takes no arguments");
		return;
	}
	if (s->rcpt_ok == 0) {
		/* RFC 5321 3.3: 554 when every recipient was refused. */
		if (s->rcpt_tried > 0)
			session_reply(s, "554 5.5.1 No valid recipients");
		else
			session_reply(s, "503 5.5.1 RCPT first");
		return;
	}
	smtp_proxy_data(s);
}
