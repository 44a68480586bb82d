import { PGlite } from '@electric-sql/pglite';
for (let i = 0; i < 3; i++) {
  const t = Date.now();
  const db = await PGlite.create();
  await db.query('select 1');
  console.log('create', Date.now() - t);
  const t2 = Date.now();
  const c = await db.clone?.();
  console.log('clone', Date.now() - t2);
}
