/* Temporary files for unit tests that read files. */
#ifndef POSTLET_TESTFILE_H
#define POSTLET_TESTFILE_H

#include <stddef.h>
#include <sys/types.h>

/*
 * Write s[0..n) to a new file under /tmp with the given mode; its path
 * goes to path[0..len). Fails the running test if that is not possible.
 */
void
testfile_make(char *path, size_t len, const void *s, size_t n, mode_t mode);

#endif
