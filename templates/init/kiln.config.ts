/**
 * The model of your API. Kiln reads this file and serves a REST API for every resource in it:
 * GET/POST /v1/projects, GET/PATCH/PUT/DELETE /v1/projects/:id, and the same for tasks.
 *
 * After a change, `npm run dev` writes the migration (SQL in migrations/) and restarts the server.
 * `npx kiln check` prints the routes and fields this file declares.
 * Every field type and option: node_modules/kilnjs/docs/reference/model.md
 */
import { defineModel, defineResource, field } from 'kilnjs';

export default defineModel({
  // What the OpenAPI document (/openapi.json) and the docs page (/docs) say about this API.
  api: {
    title: 'Projects API',
    version: '0.1.0',
    description: 'Projects and their tasks.',
    contact: { name: 'The team behind this API', email: 'team@example.com' },
  },
  resources: {
    // Each resource becomes a table and a set of routes. Kiln adds `id`, `createdAt` and `updatedAt`.
    projects: defineResource({
      description: 'Things to get done, each with its tasks.',
      fields: {
        // A string with limits: a longer value is refused with 400 and the reason, before any SQL runs.
        name: field.string({ minLength: 1, maxLength: 100, unique: true, example: 'Launch' }),
        // nullable: optional on create, and may be set to null.
        description: field.text({ nullable: true, example: 'Everything before the first release.' }),
        // The other side of tasks.project: GET /v1/projects?include=tasks embeds them.
        tasks: field.hasMany('tasks'),
      },
    }),
    tasks: defineResource({
      description: 'One step of a project.',
      fields: {
        title: field.string({ minLength: 1, maxLength: 200, example: 'Write the README' }),
        // A field with a default is optional on create.
        done: field.boolean({ default: false }),
        // An enum is stored as text with a CHECK constraint; filter it with ?priority=high.
        priority: field.enum(['low', 'normal', 'high'], { default: 'normal', index: true }),
        due: field.date({ nullable: true, example: '2030-01-31' }),
        // belongsTo adds the key field `projectId` (required on create); deleting a project deletes its tasks.
        project: field.belongsTo('projects', { onDelete: 'cascade' }),
      },
    }),
  },
});
