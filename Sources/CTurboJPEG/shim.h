// libjpeg-turbo's TurboJPEG API (Debian 12 ships 2.1.5: the tj* functions, no tj3*).
#include <turbojpeg.h>
