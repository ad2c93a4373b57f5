/*
 * Fuzz the message path with what a client may send after DATA. The first
 * two input octets choose the output buffer size and the chunking; the
 * rest is the DATA stream. Whatever comes in, the output must be
 * canonical: CRLF line ends only, no line over 998 octets plus CRLF,
 * every line that starts with "." stuffed, and "." CRLF only at the end.
 */
#include <assert.h>
#include <stdint.h>
#include <string.h>

#include "msg/msg.h"

struct check {
	size_t linelen;
	int cr; /* the last octet was CR */
	char first, second; /* of the current line */
	int ended; /* the "." line was seen */
};

static struct msg m;

/* Every author address is granted but those with "evil" in them. */
static int
grant(void *arg, const char *addr, size_t len)
{
	size_t i;

	(void)arg;
	assert(len < MSG_ADDR_MAX + 260);
	for (i = 0; i + 4 <= len; i++)
		if (memcmp(addr + i, "evil", 4) == 0)
			return 0;
	return 1;
}

static void
line_end(struct check *c)
{
	assert(c->linelen <= MSG_LINE_MAX);
	if (c->linelen == 1 && c->first == '.') {
		c->ended = 1;
	} else if (c->linelen > 0 && c->first == '.') {
		assert(c->second == '.');
	}
	c->linelen = 0;
}

static void
check_octet(struct check *c, char b)
{
	assert(!c->ended);
	assert(b != '\0');
	if (c->cr) {
		assert(b == '\n');
		c->cr = 0;
		line_end(c);
		return;
	}
	assert(b != '\n');
	if (b == '\r') {
		c->cr = 1;
		return;
	}
	if (c->linelen == 0)
		c->first = b;
	if (c->linelen == 1)
		c->second = b;
	c->linelen++;
}

static void
params(struct msg_params *p, uint8_t sel)
{
	memset(p, 0, sizeof(*p));
	p->hostname = "mx.example.net";
	p->domain = sel & 1 ? "example.org" : NULL;
	p->helo = "client.example";
	p->client_addr = "192.0.2.7";
	p->received_client_address = sel & 2;
	p->user = "alice";
	p->session_id = "5c1e09a2";
	p->tls = 1;
	p->first_rcpt = sel & 4 ? "bob@example.net" : NULL;
	p->add_to = sel & 8;
	p->now = 1700000000;
	p->max_size = sel & 16 ? 2000 : 0;
	p->from_ok = grant;
	p->unique = "f00dfeed";
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static char out[4096];
	struct msg_params p;
	struct check c;
	size_t off = 2, outcap, rounds = 0;
	uint32_t r;
	enum msg_status st = MSG_MORE;

	if (size < 2)
		return 0;
	outcap = data[0] & 0x80 ? sizeof(out) : 1 + data[0] % 32;
	r = data[1];
	params(&p, data[0] ^ data[1]);
	memset(&c, 0, sizeof(c));
	msg_begin(&m, &p);
	while (st != MSG_END && (off < size || st == MSG_OUT_FULL)) {
		size_t piece, used = 0, w = 0, i;

		r = r * 1103515245u + 12345u;
		piece = 1 + (r >> 8) % 97;
		if (piece > size - off)
			piece = size - off;
		st = msg_feed(&m, (const char *)data + off, piece, &used, out,
			outcap, &w);
		assert(used <= piece && w <= outcap);
		assert(st != MSG_MORE || used == piece);
		assert(w == 0 || msg_error_reply(&m) == NULL ||
			st == MSG_ERROR);
		for (i = 0; i < w; i++)
			check_octet(&c, out[i]);
		off += used;
		assert(++rounds < 4 * size + 10000);
	}
	if (st == MSG_END && msg_error_reply(&m) == NULL)
		assert(c.ended && !c.cr && c.linelen == 0);
	if (msg_error_reply(&m) != NULL)
		assert(strlen(msg_error_reply(&m)) < MSG_REPLY_MAX);
	return 0;
}
