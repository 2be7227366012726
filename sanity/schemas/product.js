// Haat product: a copy of Haat's catalogue, written by Haat only (its database is the authority,
// and each change is delivered here with its version). Edits made here would be put back by
// Haat's reconciliation, so every field is read-only; edit products in Haat's admin.
export default {
  name: 'product',
  title: 'Product',
  type: 'document',
  readOnly: true,
  fields: [
    {name: 'haatId', title: 'Haat product id', type: 'number', validation: (r) => r.required().integer().positive()},
    {name: 'name', title: 'Name', type: 'string', validation: (r) => r.required().max(200)},
    {name: 'slug', title: 'Slug', type: 'slug', options: {source: 'name', maxLength: 220}, validation: (r) => r.required()},
    {name: 'priceMinor', title: 'Price (minor units, e.g. paisa)', type: 'number', validation: (r) => r.required().integer().min(0)},
    {name: 'isPublished', title: 'Published', type: 'boolean'},
    {name: 'imageUrl', title: 'Main image URL', type: 'url'},
    {name: 'stock', title: 'Stock', type: 'number', description: 'Changed by Haat only, with the stock ledger.', validation: (r) => r.required().integer().min(0)},
    {name: 'haatVersion', title: 'Haat change counter', type: 'number', hidden: true},
  ],
  preview: {select: {title: 'name', subtitle: 'stock'}, prepare: ({title, subtitle}) => ({title, subtitle: `${subtitle} in stock`})},
}
