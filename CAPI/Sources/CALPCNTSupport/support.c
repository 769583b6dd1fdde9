/* The support target has only inline functions; this file keeps it a C target. */
#include "alpcnt_support.h"
