/* The handle table: the only way from a caller's HCRYPTPROV/HCRYPTKEY value
 * to an object. Values are never reused (a 64-bit counter), so a stale or
 * forged value finds nothing instead of someone else's object. */
#ifndef CAPI11_HANDLE_H
#define CAPI11_HANDLE_H

#include <wincrypt.h>
#include <stdatomic.h>

enum handle_kind {
	HANDLE_PROV = 1,
	HANDLE_KEY = 2,
	HANDLE_HASH = 3,
};

/* Embedded as the first member of every object a handle can name. The
 * table holds one reference while the handle is registered; a lookup
 * returns another that the caller gives back with handle_obj_unref. */
struct handle_obj {
	atomic_uint refs;
	enum handle_kind kind;
	void (*destroy)(struct handle_obj *obj);
};

void handle_obj_init(struct handle_obj *obj, enum handle_kind kind,
		     void (*destroy)(struct handle_obj *obj));
struct handle_obj *handle_obj_ref(struct handle_obj *obj);
/* Drops a reference; the last one calls destroy. Accepts NULL. */
void handle_obj_unref(struct handle_obj *obj);

/* Registers obj (taking a reference) and returns its new value, or 0 when
 * memory ran out. */
ULONG_PTR handle_register(struct handle_obj *obj);
/* The object named by value if it is of that kind, with a reference the
 * caller owns; NULL for 0, unknown, released or foreign values. */
struct handle_obj *handle_lookup(ULONG_PTR value, enum handle_kind kind);
/* Unregisters value and hands the table's reference to the caller; NULL
 * when value does not name an object of that kind. */
struct handle_obj *handle_remove(ULONG_PTR value, enum handle_kind kind);

#endif
