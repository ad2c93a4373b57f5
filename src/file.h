/* Reading small files whole, into the caller's buffer. */
#ifndef POSTLET_FILE_H
#define POSTLET_FILE_H

#include <stddef.h>

/*
 * Read the file at path into buf[0..size); *len tells how many bytes.
 * A file of size bytes or more fills buf: callers that must see the
 * whole file pass one byte more than they accept and refuse *len == size.
 * Returns 0, or an errno value.
 */
int file_read(const char *path, char *buf, size_t size, size_t *len);

#endif
