export { type CatalogQuery, type CatalogQueryResult, SearchProjection, type SearchSource } from './projection.js';
export { checkFilter, FACETS, type Facet, type Filter, parseFacets, parseSearchText } from './query.js';
export type { FacetCount, SortOrder } from './search-index.js';
