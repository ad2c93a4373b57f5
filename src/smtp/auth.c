/*
 * AUTH (RFC 4954) with PLAIN (RFC 4616) and LOGIN, only inside TLS.
 * Failed logins are throttled per client address and per user name: the
 * reply to a failure is held back a growing delay, and past a limit the
 * client is blocked for a while.
 */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "auth/throttle.h"
#include "board.h"
#include "log.h"
#include "smtp/session.h"
#include "wipe.h"

/* "Username:" and "Password:" in base64, the prompts LOGIN clients expect */
#define PROMPT_USER "334 VXNlcm5hbWU6"
#define PROMPT_PASS "334 UGFzc3dvcmQ6"

static void
auth_done(struct session *s)
{
	s->mech = MECH_NONE;
	wipe(s->login_name, sizeof(s->login_name));
	s->login_namelen = 0;
	if (s->state == STATE_AUTH)
		session_enter_state(s, STATE_READY);
}

static void
auth_log(struct session *s, const char *name, size_t len, const char *result)
{
	char esc[96];

	log_event(LOG_LEVEL_INFO, s->id, "auth", "user=%s result=%s client=%s",
		log_escape(esc, sizeof(esc), name, len), result, s->client);
}

/* Is this client or this name blocked or to be slowed down? */
static uint32_t
auth_delay(const struct session *s, const char *name, size_t len)
{
	uint32_t a = throttle_delay_ms(
		THROTTLE_CLIENT, s->client_key, s->client_keylen);
	uint32_t b = throttle_delay_ms(THROTTLE_USER, name, len);

	return a > b ? a : b;
}

/* Reply now, or after the throttling delay for this client and name. */
static void
reply_later(struct session *s, uint32_t delay, const char *reply)
{
	if (delay == 0) {
		session_reply(s, "%s", reply);
		return;
	}
	snprintf(s->pending_reply, sizeof(s->pending_reply), "%s", reply);
	s->resume_at = board_now_ms() + delay;
	s->wait = WAIT_THROTTLE;
}

/*
 * The hash runs a slice at a time from the loop (WAIT_HASH), so that a
 * login on a slow router does not stall every other session. name may
 * point into the session (LOGIN keeps it there): it is copied before
 * auth_done wipes it.
 */
static void
auth_verify(struct session *s, const char *name, size_t namelen,
	const char *pass, size_t passlen)
{
	const struct users *set = session_users();
	uint32_t delay = auth_delay(s, name, namelen);

	if (delay == THROTTLE_BLOCKED) {
		auth_log(s, name, namelen, "blocked");
		auth_done(s);
		session_reply(s,
			"454 4.7.0 Too many failed logins, try "
			"again later");
		return;
	}
	memcpy(s->check_name, name, namelen);
	s->check_namelen = namelen;
	/* The set must outlive the check: the session now holds it. */
	s->users = set;
	users_check_start(set, name, namelen, pass, passlen, &s->check);
	auth_done(s);
	s->wait = WAIT_HASH;
	session_hash_schedule();
}

static void
auth_verdict(struct session *s, const struct user *u)
{
	const char *name = s->check_name;
	size_t namelen = s->check_namelen;
	uint32_t delay;

	if (u == NULL) {
		throttle_failed(
			THROTTLE_CLIENT, s->client_key, s->client_keylen);
		throttle_failed(THROTTLE_USER, name, namelen);
		auth_log(s, name, namelen,
			s->users != NULL ? "fail" : "no-users-file");
		s->users = NULL;
		/* A client that just got blocked hears so at its next try. */
		delay = auth_delay(s, name, namelen);
		reply_later(s, delay == THROTTLE_BLOCKED ? 0 : delay,
			"535 5.7.8 Authentication credentials invalid");
		return;
	}
	/*
	 * Only the user's count is cleared: one valid account must not wipe
	 * the record of an address that guesses other users' passwords.
	 */
	throttle_succeeded(THROTTLE_USER, name, namelen);
	auth_log(s, name, namelen, "ok");
	s->user = u;
	session_reply(s, "235 2.7.0 Authentication successful");
}

int
smtp_auth_hash_step(struct session *s, unsigned long rounds)
{
	const struct user *u;

	if (s->wait != WAIT_HASH)
		return 0;
	if (!users_check_step(&s->check, rounds))
		return 0;
	u = users_check_result(&s->check);
	s->wait = WAIT_NONE;
	auth_verdict(s, u);
	memset(s->check_name, 0, sizeof(s->check_name));
	return 1;
}

void
smtp_auth_abandon(struct session *s)
{
	if (s->wait != WAIT_HASH)
		return;
	/* Before its end the job holds a cheap-to-attack password digest. */
	users_check_result(&s->check);
	s->wait = WAIT_NONE;
}

static void
plain_response(struct session *s, const char *b64, size_t len)
{
	struct sasl_creds c;

	switch (sasl_plain_decode(b64, len, &c)) {
	case SASL_OK:
		auth_verify(s, c.name, c.namelen, c.pass, c.passlen);
		break;
	case SASL_ERR_AUTHZ:
		auth_done(s);
		session_reply(s, "535 5.7.8 Cannot act as another user");
		break;
	case SASL_ERR_BASE64:
		auth_done(s);
		session_reply(s, "501 5.5.2 Cannot decode response");
		break;
	default:
		auth_done(s);
		session_reply(s, "501 5.5.2 Malformed PLAIN response");
		break;
	}
	sasl_creds_wipe(&c);
}

static void
login_response(struct session *s, const char *b64, size_t len)
{
	char pass[SASL_PASS_MAX + 1];
	size_t passlen = 0;

	if (s->login_namelen == 0) {
		if (sasl_login_decode(b64, len, s->login_name,
			    sizeof(s->login_name),
			    &s->login_namelen) != SASL_OK) {
			auth_done(s);
			session_reply(s, "501 5.5.2 Cannot decode response");
			return;
		}
		session_reply(s, PROMPT_PASS);
		return;
	}
	if (sasl_login_decode(b64, len, pass, sizeof(pass), &passlen) !=
		SASL_OK) {
		auth_done(s);
		session_reply(s, "501 5.5.2 Cannot decode response");
		return;
	}
	auth_verify(s, s->login_name, s->login_namelen, pass, passlen);
	wipe(pass, sizeof(pass));
}

void
smtp_auth_response(struct session *s, const char *line, size_t len)
{
	/* RFC 4954 4: "*" cancels the exchange. */
	if (len == 1 && line[0] == '*') {
		auth_done(s);
		session_reply(s, "501 5.0.0 Authentication cancelled");
		return;
	}
	if (s->mech == MECH_PLAIN)
		plain_response(s, line, len);
	else
		login_response(s, line, len);
}

static enum sasl_mech
mechanism(const char *name, size_t len)
{
	if (len == 5 && strncasecmp(name, "PLAIN", 5) == 0)
		return MECH_PLAIN;
	if (len == 5 && strncasecmp(name, "LOGIN", 5) == 0)
		return MECH_LOGIN;
	return MECH_NONE;
}

void
smtp_auth_start(struct session *s, const char *args)
{
	size_t mlen = strcspn(args, " ");
	const char *initial = args[mlen] == ' ' ? args + mlen + 1 : NULL;

	s->mech = mechanism(args, mlen);
	if (s->mech == MECH_NONE) {
		session_reply(s, "504 5.5.4 Unrecognized authentication type");
		return;
	}
	if (throttle_delay_ms(THROTTLE_CLIENT, s->client_key,
		    s->client_keylen) == THROTTLE_BLOCKED) {
		s->mech = MECH_NONE;
		session_reply(s,
			"454 4.7.0 Too many failed logins, try "
			"again later");
		return;
	}
	session_enter_state(s, STATE_AUTH);
	if (initial == NULL) {
		session_reply(s, s->mech == MECH_PLAIN ? "334 " : PROMPT_USER);
		return;
	}
	/* RFC 4954 4: "=" is an initial response of zero length. */
	if (strcmp(initial, "=") == 0)
		initial = "";
	smtp_auth_response(s, initial, strlen(initial));
}

void
smtp_auth_timer(struct session *s)
{
	if (s->wait != WAIT_THROTTLE ||
		(int32_t)(board_now_ms() - s->resume_at) < 0)
		return;
	s->wait = WAIT_NONE;
	session_reply(s, "%s", s->pending_reply);
	session_resume(s);
}
