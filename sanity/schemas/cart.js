// One cart per shopper: product references with quantities (1..stock, enforced by Haat).
export default {
  name: 'cart',
  title: 'Cart',
  type: 'document',
  readOnly: true,
  fields: [
    {name: 'userId', title: 'Haat user id', type: 'number'},
    {name: 'version', title: 'Version (grows with every change)', type: 'number'},
    {
      name: 'lines',
      title: 'Lines',
      type: 'array',
      of: [
        {
          type: 'object',
          name: 'cartLine',
          fields: [
            {name: 'product', type: 'reference', to: [{type: 'product'}], weak: true},
            {name: 'productId', type: 'number'},
            {name: 'quantity', type: 'number', validation: (r) => r.required().integer().min(1)},
            {name: 'addedAt', type: 'datetime'},
          ],
        },
      ],
    },
  ],
}
