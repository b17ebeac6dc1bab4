import { compileOrThrow } from '../../src/model/load.js';

/** uuid ids, every scalar type with its options, every relation kind, a resource without timestamps. */
export const allTypesModel = () =>
  compileOrThrow('all-types', {
    api: { title: 'All types', version: '0.1.0', contact: { name: 'Kiln tests', url: 'https://example.com/kiln' } },
    resources: {
      owners: {
        id: 'uuid',
        fields: {
          handle: { type: 'string', maxLength: 40, pattern: '^[a-z]+$', unique: true },
          things: { type: 'hasMany', target: 'things' },
        },
      },
      things: {
        id: 'uuid',
        description: 'One field of every type.',
        fields: {
          label: { type: 'string', minLength: 2, maxLength: 30, example: 'a label' },
          notes: { type: 'text', nullable: true },
          site: { type: 'string', format: 'url', nullable: true },
          mail: { type: 'string', format: 'email', default: 'x@example.com' },
          ref: { type: 'string', format: 'uuid', nullable: true },
          qty: { type: 'integer', min: 0, max: 10, default: 0 },
          big: { type: 'bigint', nullable: true },
          price: { type: 'decimal', precision: 10, scale: 2, default: '0.00' },
          ratio: { type: 'float', nullable: true },
          active: { type: 'boolean', default: true },
          day: { type: 'date', nullable: true },
          at: { type: 'datetime', default: 'now' },
          kind: { type: 'enum', values: ['a', 'b'], nullable: true },
          meta: { type: 'json', nullable: true },
          token: { type: 'uuid', default: 'random' },
          secret: { type: 'string', hidden: true, nullable: true },
          score: { type: 'integer', readOnly: true, default: 5 },
          code: { type: 'string', maxLength: 3, nullable: true },
          owner: { type: 'belongsTo', target: 'owners', nullable: true, onDelete: 'setNull' },
          labels: { type: 'manyToMany', target: 'labels' },
        },
      },
      labels: {
        timestamps: false,
        fields: { name: { type: 'string' }, things: { type: 'manyToMany', target: 'things' } },
      },
    },
  });

/** Resource names whose schema names and operation ids would collide with others if taken as they are. */
export const collidingNamesModel = () =>
  compileOrThrow('colliding-names', {
    api: { contact: { email: 'tests@example.com' } },
    resources: {
      page: { fields: { title: { type: 'string' } } },
      problem: { fields: { title: { type: 'string' } } },
      posts: { fields: { title: { type: 'string' } } },
      postsCreate: { fields: { title: { type: 'string' } } },
      manyPosts: { fields: { title: { type: 'string' } } },
    },
  });
