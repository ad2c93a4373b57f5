#include <errno.h>
#include <fcntl.h>
#include <unistd.h>

#include "file.h"

int
file_read(const char *path, char *buf, size_t size, size_t *len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	int e = 0;

	if (fd < 0)
		return errno;
	*len = 0;
	while (*len < size) {
		ssize_t n = read(fd, buf + *len, size - *len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			e = errno;
		if (n <= 0)
			break;
		*len += (size_t)n;
	}
	close(fd);
	return e;
}
