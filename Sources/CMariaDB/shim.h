// MariaDB Connector/C (Debian: libmariadb-dev; the header lives in /usr/include/mariadb/,
// found through pkg-config libmariadb). Wrapped by Sources/Storage/MySQL only.
#include <mysql.h>
