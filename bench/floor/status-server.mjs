// The floor of status polling: a bare Express handler reading the same row over pg, with no
// authentication, validation, logging or metrics. Started by the benchmark as its own process.
import express from 'express';
import pg from 'pg';

const pool = new pg.Pool({ connectionString: process.env.DATABASE_URL, max: 10 });
const app = express();
app.get('/organizations/:id/status', async (req, res) => {
  const { rows } = await pool.query('SELECT id, status, step, attempts, last_error, updated_at FROM organizations WHERE id = $1', [req.params.id]);
  res.json(rows[0]);
});
app.listen(Number(process.env.PORT), '127.0.0.1', () => console.log('listening'));
process.on('SIGTERM', () => pool.end().then(() => process.exit(0)));
