/* Windows.h (SwiftALPC stand-in): the same as windows.h, for programs that spell it so. */
#include "windows.h"
