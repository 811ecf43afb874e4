/* internal.h — names shared between the helper layer's files, not part of
 * the API (hence the ap__ prefix). */
#ifndef AP_INTERNAL_H
#define AP_INTERNAL_H

#include "ap.h"

void ap__soon_idle_cb(uv_idle_t *idle);
void ap__soon_check_cb(uv_check_t *check);

#endif /* AP_INTERNAL_H */
