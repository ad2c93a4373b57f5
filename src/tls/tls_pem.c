/* Reading PEM files at start-up: certificates, keys and CA bundles. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tls/tls_priv.h"

/* A CA bundle is a few hundred KiB; anything far larger is a mistake. */
#define PEM_FILE_MAX (4u << 20)

struct der_sink {
	unsigned char *buf;
	size_t len;
};

int
tls_errf(char *err, size_t errlen, const char *path, const char *what)
{
	if (errlen > 0)
		snprintf(err, errlen, "%s: %s", path, what);
	return -1;
}

/*
 * The sink is as large as the whole file, and base64 only shrinks, so
 * an object always fits.
 */
static void
der_append(void *ctx, const void *data, size_t len)
{
	struct der_sink *s = ctx;

	memcpy(s->buf + s->len, data, len);
	s->len += len;
}

/* Read the whole file into a new buffer; *len is its size. */
static unsigned char *
read_file(const char *path, size_t *len, char *err, size_t errlen)
{
	FILE *f = fopen(path, "rb");
	unsigned char *buf;
	long size;

	if (f == NULL) {
		tls_errf(err, errlen, path, strerror(errno));
		return NULL;
	}
	if (fseek(f, 0, SEEK_END) != 0 || (size = ftell(f)) < 0 ||
		(unsigned long)size > PEM_FILE_MAX || fseek(f, 0, SEEK_SET)) {
		fclose(f);
		tls_errf(err, errlen, path, "cannot read or too large");
		return NULL;
	}
	buf = malloc((size_t)size + 1);
	if (buf == NULL || fread(buf, 1, (size_t)size, f) != (size_t)size) {
		free(buf);
		fclose(f);
		tls_errf(err, errlen, path, "cannot read");
		return NULL;
	}
	fclose(f);
	*len = (size_t)size;
	return buf;
}

/*
 * Feed pem[0..len) to the decoder and hand each finished object to fn.
 * Returns the object count, -1 on error (message in err).
 */
static int
decode_all(const char *path, const unsigned char *pem, size_t len,
	struct der_sink *sink, tls_pem_fn fn, void *ctx, char *err,
	size_t errlen)
{
	br_pem_decoder_context pc;
	int count = 0, inside = 0;

	br_pem_decoder_init(&pc);
	br_pem_decoder_setdest(&pc, der_append, sink);
	while (len > 0) {
		size_t n = br_pem_decoder_push(&pc, pem, len);

		pem += n;
		len -= n;
		switch (br_pem_decoder_event(&pc)) {
		case BR_PEM_BEGIN_OBJ:
			sink->len = 0;
			inside = 1;
			break;
		case BR_PEM_END_OBJ:
			inside = 0;
			count++;
			if (fn(ctx, br_pem_decoder_name(&pc), sink->buf,
				    sink->len, err, errlen) != 0)
				return -1;
			break;
		case BR_PEM_ERROR:
			return tls_errf(err, errlen, path, "malformed PEM");
		}
	}
	if (inside)
		return tls_errf(err, errlen, path, "truncated PEM object");
	if (count == 0)
		return tls_errf(err, errlen, path, "no PEM object found");
	return count;
}

int
tls_pem_each(
	const char *path, tls_pem_fn fn, void *ctx, char *err, size_t errlen)
{
	struct der_sink sink;
	unsigned char *pem;
	size_t len;
	int n;

	pem = read_file(path, &len, err, errlen);
	if (pem == NULL)
		return -1;
	/*
	 * The decoder only sees an END line once the newline after it
	 * arrives; a file may lack the last one.
	 */
	pem[len++] = '\n';
	sink.buf = malloc(len);
	sink.len = 0;
	if (sink.buf == NULL) {
		free(pem);
		return tls_errf(err, errlen, path, "out of memory");
	}
	n = decode_all(path, pem, len, &sink, fn, ctx, err, errlen);
	/* The file may have held a private key. */
	explicit_bzero(sink.buf, len);
	explicit_bzero(pem, len);
	free(sink.buf);
	free(pem);
	return n;
}
