// A realistic catalog and query log for the scale benchmark (bench/catalog-scale.js), reproducible
// from a seed: component names as platform teams write them (provider-service-flavour, sometimes a
// team prefix or a variant: `aws-rds-postgres`, `payments-aws-rds-postgres-ha`), descriptions,
// labels, categories, engines, inputs, outputs and dependencies on earlier components; and a log of
// distinct queries as a catalog browser sends them (prefixes as typed, two-word queries, typos,
// qualifiers, faceted list filters), the names drawn from a Zipf distribution.
// Plain data only (no imports), so the vitest smoke test and the bench share it.

/** Seeded PRNG (mulberry32): the same seed gives the same catalog and the same log. */
export function rng(seed) {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return {
    next,
    int: (n) => Math.floor(next() * n),
    pick: (list) => list[Math.floor(next() * list.length)],
    chance: (p) => next() < p,
    /** One of `weighted` ([value, weight] pairs). */
    weighted: (weighted) => {
      let total = 0;
      for (const [, w] of weighted) total += w;
      let r = next() * total;
      for (const [v, w] of weighted) {
        r -= w;
        if (r < 0) return v;
      }
      return weighted[weighted.length - 1][0];
    },
  };
}

/** Samples ranks 0..n-1 with P(rank k) proportional to 1 / (k+1)^s (Zipf), by binary search. */
export function zipf(n, s, random) {
  const cdf = new Float64Array(n);
  let sum = 0;
  for (let k = 0; k < n; k++) {
    sum += 1 / (k + 1) ** s;
    cdf[k] = sum;
  }
  return () => {
    const r = random.next() * sum;
    let lo = 0;
    let hi = n - 1;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (cdf[mid] < r) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  };
}

// service: [category, resource_type, display name, flavours]
const SERVICES = {
  aws: [
    [
      'rds',
      'database',
      'aws_db_instance',
      'Amazon RDS',
      ['postgres', 'mysql', 'mariadb', 'aurora-postgres', 'aurora-mysql'],
    ],
    ['dynamodb', 'database', 'aws_dynamodb_table', 'Amazon DynamoDB', ['table', 'global-table']],
    ['elasticache', 'cache', 'aws_elasticache_cluster', 'Amazon ElastiCache', ['redis', 'memcached', 'valkey']],
    ['s3', 'storage', 'aws_s3_bucket', 'Amazon S3', ['bucket', 'static-site', 'log-bucket', 'replicated-bucket']],
    ['ec2', 'compute', 'aws_instance', 'Amazon EC2', ['instance', 'autoscaling-group', 'spot-fleet']],
    ['eks', 'compute', 'aws_eks_cluster', 'Amazon EKS', ['cluster', 'nodegroup', 'fargate-profile']],
    ['lambda', 'compute', 'aws_lambda_function', 'AWS Lambda', ['function', 'edge-function']],
    ['sqs', 'messaging', 'aws_sqs_queue', 'Amazon SQS', ['queue', 'fifo-queue']],
    ['sns', 'messaging', 'aws_sns_topic', 'Amazon SNS', ['topic']],
    ['msk', 'messaging', 'aws_msk_cluster', 'Amazon MSK', ['kafka', 'kafka-serverless']],
    ['kinesis', 'messaging', 'aws_kinesis_stream', 'Amazon Kinesis', ['stream', 'firehose']],
    ['vpc', 'network', 'aws_vpc', 'Amazon VPC', ['network', 'peering', 'endpoint', 'transit-gateway']],
    ['alb', 'network', 'aws_lb', 'Elastic Load Balancing', ['load-balancer', 'nlb']],
    ['route53', 'dns', 'aws_route53_zone', 'Amazon Route 53', ['zone', 'record', 'resolver']],
    ['cloudfront', 'cdn', 'aws_cloudfront_distribution', 'Amazon CloudFront', ['distribution']],
    ['iam', 'identity', 'aws_iam_role', 'AWS IAM', ['role', 'policy', 'oidc-provider']],
    ['kms', 'security', 'aws_kms_key', 'AWS KMS', ['key']],
    ['secretsmanager', 'security', 'aws_secretsmanager_secret', 'AWS Secrets Manager', ['secret']],
    ['opensearch', 'analytics', 'aws_opensearch_domain', 'Amazon OpenSearch', ['domain']],
    ['redshift', 'analytics', 'aws_redshift_cluster', 'Amazon Redshift', ['cluster', 'serverless']],
    [
      'cloudwatch',
      'observability',
      'aws_cloudwatch_metric_alarm',
      'Amazon CloudWatch',
      ['alarms', 'dashboard', 'log-group'],
    ],
  ],
  gcp: [
    ['cloudsql', 'database', 'google_sql_database_instance', 'Cloud SQL', ['postgres', 'mysql', 'sqlserver']],
    ['spanner', 'database', 'google_spanner_instance', 'Cloud Spanner', ['instance']],
    ['memorystore', 'cache', 'google_redis_instance', 'Memorystore', ['redis', 'memcached']],
    ['gcs', 'storage', 'google_storage_bucket', 'Cloud Storage', ['bucket', 'static-site']],
    ['gke', 'compute', 'google_container_cluster', 'Google Kubernetes Engine', ['cluster', 'autopilot', 'nodepool']],
    ['cloudrun', 'compute', 'google_cloud_run_service', 'Cloud Run', ['service', 'job']],
    ['functions', 'compute', 'google_cloudfunctions_function', 'Cloud Functions', ['function']],
    ['pubsub', 'messaging', 'google_pubsub_topic', 'Pub/Sub', ['topic', 'subscription']],
    ['vpc', 'network', 'google_compute_network', 'VPC network', ['network', 'subnet', 'nat']],
    ['dns', 'dns', 'google_dns_managed_zone', 'Cloud DNS', ['zone']],
    ['bigquery', 'analytics', 'google_bigquery_dataset', 'BigQuery', ['dataset', 'table']],
    ['iam', 'identity', 'google_service_account', 'Cloud IAM', ['service-account', 'role']],
    ['kms', 'security', 'google_kms_key_ring', 'Cloud KMS', ['keyring']],
    [
      'monitoring',
      'observability',
      'google_monitoring_alert_policy',
      'Cloud Monitoring',
      ['alert-policy', 'dashboard'],
    ],
  ],
  azure: [
    ['sql', 'database', 'azurerm_mssql_database', 'Azure SQL', ['database', 'managed-instance']],
    [
      'postgres',
      'database',
      'azurerm_postgresql_flexible_server',
      'Azure Database for PostgreSQL',
      ['flexible-server'],
    ],
    ['cosmosdb', 'database', 'azurerm_cosmosdb_account', 'Azure Cosmos DB', ['account', 'mongo']],
    ['redis', 'cache', 'azurerm_redis_cache', 'Azure Cache for Redis', ['cache', 'enterprise']],
    ['blob', 'storage', 'azurerm_storage_account', 'Azure Blob Storage', ['storage-account', 'container']],
    ['aks', 'compute', 'azurerm_kubernetes_cluster', 'Azure Kubernetes Service', ['cluster', 'nodepool']],
    ['functions', 'compute', 'azurerm_linux_function_app', 'Azure Functions', ['app']],
    ['servicebus', 'messaging', 'azurerm_servicebus_namespace', 'Azure Service Bus', ['namespace', 'queue', 'topic']],
    ['eventhubs', 'messaging', 'azurerm_eventhub_namespace', 'Azure Event Hubs', ['namespace']],
    ['vnet', 'network', 'azurerm_virtual_network', 'Azure Virtual Network', ['network', 'subnet']],
    ['frontdoor', 'cdn', 'azurerm_cdn_frontdoor_profile', 'Azure Front Door', ['profile']],
    ['keyvault', 'security', 'azurerm_key_vault', 'Azure Key Vault', ['vault', 'secret']],
    ['monitor', 'observability', 'azurerm_monitor_metric_alert', 'Azure Monitor', ['alerts', 'workspace']],
  ],
  k8s: [
    ['cnpg', 'database', 'postgresql_cluster', 'CloudNativePG', ['postgres']],
    ['strimzi', 'messaging', 'kafka_cluster', 'Strimzi', ['kafka', 'kafka-connect']],
    ['redis-operator', 'cache', 'redis_cluster', 'Redis Operator', ['redis', 'sentinel']],
    ['ingress-nginx', 'network', 'ingress', 'ingress-nginx', ['ingress', 'controller']],
    ['cert-manager', 'security', 'cluster_issuer', 'cert-manager', ['issuer', 'certificate']],
    ['external-dns', 'dns', 'external_dns', 'ExternalDNS', ['controller']],
    ['prometheus', 'observability', 'prometheus_stack', 'Prometheus', ['stack', 'servicemonitor', 'rules']],
    ['grafana', 'observability', 'grafana_dashboard', 'Grafana', ['dashboard', 'datasource']],
    ['argocd', 'compute', 'argocd_application', 'Argo CD', ['application', 'appset']],
    ['namespace', 'compute', 'namespace', 'Kubernetes namespace', ['tenant', 'quota']],
    ['istio', 'network', 'istio_mesh', 'Istio', ['mesh', 'gateway']],
  ],
  cloudflare: [
    ['dns', 'dns', 'cloudflare_zone', 'Cloudflare DNS', ['zone', 'record']],
    ['workers', 'compute', 'cloudflare_worker_script', 'Cloudflare Workers', ['worker', 'cron']],
    ['r2', 'storage', 'cloudflare_r2_bucket', 'Cloudflare R2', ['bucket']],
    ['tunnel', 'network', 'cloudflare_tunnel', 'Cloudflare Tunnel', ['tunnel']],
    ['waf', 'security', 'cloudflare_ruleset', 'Cloudflare WAF', ['ruleset']],
  ],
  datadog: [
    ['monitor', 'observability', 'datadog_monitor', 'Datadog monitors', ['monitor', 'slo']],
    ['dashboard', 'observability', 'datadog_dashboard', 'Datadog dashboards', ['dashboard']],
    ['synthetics', 'observability', 'datadog_synthetics_test', 'Datadog Synthetics', ['api-test', 'browser-test']],
  ],
  github: [
    ['repo', 'identity', 'github_repository', 'GitHub repository', ['repository', 'template']],
    ['actions', 'compute', 'github_actions_runner_group', 'GitHub Actions', ['runner', 'workflow']],
    ['team', 'identity', 'github_team', 'GitHub team', ['team']],
  ],
  vault: [
    ['kv', 'security', 'vault_mount', 'Vault KV', ['secrets-engine']],
    ['pki', 'security', 'vault_pki_secret_backend', 'Vault PKI', ['root-ca', 'intermediate-ca']],
    ['auth', 'identity', 'vault_auth_backend', 'Vault auth', ['approle', 'oidc', 'kubernetes']],
  ],
};

export const PROVIDERS = [
  ['aws', 38],
  ['gcp', 20],
  ['azure', 18],
  ['k8s', 12],
  ['cloudflare', 4],
  ['datadog', 3],
  ['github', 3],
  ['vault', 2],
];

export const TEAMS = [
  'payments',
  'checkout',
  'search',
  'identity',
  'data-platform',
  'ml-platform',
  'growth',
  'billing',
  'ledger',
  'risk',
  'fraud',
  'ads',
  'mobile',
  'web',
  'platform',
  'sre',
  'security',
  'observability',
  'analytics',
  'warehouse',
  'ingest',
  'streaming',
  'notifications',
  'messaging',
  'catalog',
  'inventory',
  'shipping',
  'logistics',
  'pricing',
  'partners',
  'crm',
  'support',
  'finance',
  'marketing',
  'recommendations',
  'personalization',
  'media',
  'video',
  'maps',
  'edge',
  'devex',
  'build',
  'release',
  'compliance',
  'core-banking',
  'lending',
  'cards',
  'onboarding',
  'accounts',
  'reporting',
];

const VARIANTS = [
  'ha',
  'multi-az',
  'serverless',
  'private',
  'public',
  'encrypted',
  'replica',
  'standard',
  'small',
  'large',
  'gpu',
  'spot',
  'global',
  'regional',
  'dr',
  'legacy',
  'v2',
  'hardened',
  'shared',
  'dedicated',
];

const REGIONS = {
  aws: ['us-east-1', 'us-west-2', 'eu-west-1', 'eu-central-1', 'ap-southeast-1'],
  gcp: ['us-central1', 'europe-west1', 'asia-east1'],
  azure: ['westeurope', 'northeurope', 'eastus'],
  k8s: ['prod-eu', 'prod-us', 'staging'],
  cloudflare: ['global'],
  datadog: ['us1', 'eu1'],
  github: ['global'],
  vault: ['prod', 'nonprod'],
};

const FEATURES = {
  database: ['automated backups', 'point-in-time recovery', 'read replicas', 'encryption at rest', 'failover'],
  cache: ['cluster mode', 'TLS in transit', 'automatic failover', 'eviction alerts'],
  storage: ['versioning', 'lifecycle rules', 'server-side encryption', 'access logging', 'replication'],
  compute: ['autoscaling', 'spot capacity', 'rolling updates', 'pod security standards', 'node auto-repair'],
  messaging: ['dead-letter queues', 'ordering', 'retention policies', 'consumer lag alerts'],
  network: ['private subnets', 'flow logs', 'NAT gateways', 'TLS termination', 'WAF integration'],
  dns: ['DNSSEC', 'health checks', 'weighted routing'],
  cdn: ['edge caching', 'origin shield', 'custom certificates'],
  identity: ['least-privilege policies', 'workload identity', 'audit trails', 'SSO'],
  security: ['key rotation', 'audit logging', 'fine-grained access', 'HSM backing'],
  analytics: ['partitioning', 'fine-grained access', 'cost controls', 'snapshots'],
  observability: ['SLO alerts', 'on-call routing', 'runbook links', 'anomaly detection'],
};

const INPUTS = {
  database: [
    ['instance_class', 'string', 'Instance class'],
    ['storage_gb', 'integer', 'Allocated storage in GiB'],
    ['engine_version', 'string', 'Engine version'],
    ['multi_az', 'boolean', 'Standby in a second zone'],
  ],
  cache: [
    ['node_type', 'string', 'Node type'],
    ['shards', 'integer', 'Number of shards'],
  ],
  storage: [
    ['bucket_name', 'string', 'Globally unique name'],
    ['versioning', 'boolean', 'Keep object versions'],
  ],
  compute: [
    ['instance_type', 'string', 'Machine type'],
    ['min_size', 'integer', 'Minimum nodes'],
    ['max_size', 'integer', 'Maximum nodes'],
  ],
  messaging: [
    ['retention_hours', 'integer', 'Message retention'],
    ['partitions', 'integer', 'Partitions or shards'],
  ],
  network: [
    ['cidr_block', 'string', 'Address range'],
    ['zones', 'list', 'Availability zones'],
  ],
  dns: [['domain', 'string', 'Zone apex']],
  cdn: [['origin', 'string', 'Origin host']],
  identity: [['principal', 'string', 'Who assumes it']],
  security: [['rotation_days', 'integer', 'Rotation period']],
  analytics: [['node_count', 'integer', 'Nodes']],
  observability: [['threshold', 'number', 'Alert threshold']],
};

const OUTPUTS = {
  database: ['endpoint', 'port', 'secret_arn'],
  cache: ['primary_endpoint', 'reader_endpoint'],
  storage: ['bucket_arn', 'bucket_url'],
  compute: ['cluster_endpoint', 'kubeconfig'],
  messaging: ['queue_url', 'topic_arn'],
  network: ['network_id', 'subnet_ids'],
  dns: ['zone_id', 'name_servers'],
  cdn: ['distribution_domain'],
  identity: ['role_arn'],
  security: ['key_arn'],
  analytics: ['endpoint'],
  observability: ['monitor_id'],
};

/** What a component of a category typically depends on (categories of earlier components). */
const DEPENDS_ON = {
  database: ['network', 'security', 'observability'],
  cache: ['network', 'security'],
  storage: ['security', 'identity'],
  compute: ['network', 'identity', 'observability'],
  messaging: ['network', 'security', 'identity'],
  network: ['dns'],
  dns: [],
  cdn: ['storage', 'dns', 'security'],
  identity: [],
  security: ['identity'],
  analytics: ['storage', 'network', 'identity'],
  observability: [],
};

const RANGES = ['^1.0.0', '^1.0.0', '>=1.0.0 <2.0.0', '~1.0.0', '*'];

function capitalised(s) {
  return s.charAt(0).toUpperCase() + s.slice(1);
}

/**
 * `count` components (distinct names), each a ComponentSpecInput as a client would POST it, plus
 * a second version (1.1.0) for about one in ten. Every dependency names an earlier component and a
 * range its 1.0.0 satisfies, so the catalog also passes validation in the order returned.
 * Returns `{ specs, names }`: `specs` in write order, `names` ranked by popularity (Zipf rank 0 first).
 */
export function generateCatalog(count, { seed = 42 } = {}) {
  const r = rng(seed);
  const baseList = [];
  for (const [provider, weight] of PROVIDERS) {
    for (const [service, category, resourceType, display, flavours] of SERVICES[provider]) {
      for (const flavour of flavours) {
        baseList.push({ provider, service, category, resourceType, display, flavour, weight });
      }
    }
  }
  // Popularity of the bases: Zipf over a seeded shuffle, scaled by the provider's weight.
  const order = baseList.map((b, i) => ({ b, key: r.next() / b.weight, i }));
  order.sort((x, y) => x.key - y.key);
  const bases = order.map((o) => o.b);
  const pickBase = zipf(bases.length, 0.8, r);
  const seen = new Set();
  const numbered = new Map();
  const byProviderCategory = new Map();
  const specs = [];
  const names = [];
  for (let i = 0; i < count; i++) {
    const base = bases[pickBase()];
    const stem = `${base.provider}-${base.service}-${base.flavour}`;
    const team = r.pick(TEAMS);
    const region = r.pick(REGIONS[base.provider]);
    let name = null;
    for (let attempt = 0; attempt < 6 && name === null; attempt++) {
      const shape = seen.has(stem) ? r.int(5) : -1;
      let candidate;
      if (shape === -1) candidate = stem;
      else if (shape === 0) candidate = `${team}-${stem}`;
      else if (shape === 1) candidate = `${stem}-${r.pick(VARIANTS)}`;
      else if (shape === 2) candidate = `${team}-${stem}-${r.pick(VARIANTS)}`;
      else if (shape === 3) candidate = `${stem}-${region}`;
      else candidate = `${team}-${stem}-${r.pick(VARIANTS)}-${region}`;
      if (candidate.length <= 63 && !seen.has(candidate)) name = candidate;
    }
    if (name === null) {
      // Crowded stems get numbered (`payments-aws-rds-postgres-7`), as teams do.
      const prefix = `${team}-${stem}`.slice(0, 55);
      let n = numbered.get(prefix) ?? 2;
      while (seen.has(`${prefix}-${n}`)) n++;
      numbered.set(prefix, n + 1);
      name = `${prefix}-${n}`;
    }
    seen.add(name);
    names.push(name);

    const env = r.weighted([
      ['prod', 5],
      ['staging', 3],
      ['dev', 2],
    ]);
    const labels = { team, env, tier: String(1 + r.int(3)) };
    if (r.chance(0.6)) labels['cost-center'] = `cc-${1000 + r.int(100)}`;
    if (r.chance(0.5)) labels.region = region;
    if (r.chance(0.3)) labels.compliance = r.pick(['pci', 'hipaa', 'sox', 'gdpr']);
    if (r.chance(0.3)) labels['data-class'] = r.pick(['public', 'internal', 'confidential']);
    const features = FEATURES[base.category];
    const f1 = r.pick(features);
    let f2 = r.pick(features);
    if (f2 === f1) f2 = features[(features.indexOf(f1) + 1) % features.length];
    const flavourWords = base.flavour.replaceAll('-', ' ');
    const description = `${capitalised(flavourWords)} on ${base.display} for the ${team.replaceAll('-', ' ')} team (${env}), with ${f1} and ${f2}. Owned by ${team}; ${base.category} building block for ${region}.`;

    const deps = [];
    for (const category of DEPENDS_ON[base.category]) {
      if (deps.length >= 4 || !r.chance(0.55)) continue;
      const pool = byProviderCategory.get(`${base.provider}/${category}`);
      if (!pool || pool.length === 0) continue;
      // Earlier, popular components are depended on most: the square skews toward the pool's start.
      const j = Math.floor(r.next() ** 2 * pool.length);
      const dep = pool[j];
      if (!deps.some((d) => d.name === dep)) deps.push({ name: dep, version_range: r.pick(RANGES) });
    }
    const key = `${base.provider}/${base.category}`;
    if (!byProviderCategory.has(key)) byProviderCategory.set(key, []);
    byProviderCategory.get(key).push(name);

    const engine = r.weighted(
      base.provider === 'k8s'
        ? [
            ['crossplane', 6],
            ['terraform', 3],
            ['pulumi', 1],
          ]
        : [
            ['terraform', 7],
            ['pulumi', 2],
            ['crossplane', 1],
          ],
    );
    const engines = r.chance(0.15) ? [engine, engine === 'terraform' ? 'pulumi' : 'terraform'] : [engine];
    const inputs = INPUTS[base.category];
    const required = inputs
      .slice(0, 1 + r.int(inputs.length))
      .map(([n, type, d]) => ({ name: n, type, description: d }));
    const optional = [
      { name: 'tags', type: 'map', description: 'Extra tags for cost reports', default: {} },
      { name: 'environment', type: 'string', description: 'Deployment environment', default: env },
    ];
    const outputs = OUTPUTS[base.category].map((o) => ({
      name: o,
      type: 'string',
      description: `${o.replaceAll('_', ' ')}`,
    }));
    const spec = {
      name,
      version: '1.0.0',
      description,
      provider: base.provider,
      category: base.category,
      resource_type: base.resourceType,
      deployment_engines: engines,
      dependencies: deps,
      required_inputs: required,
      optional_inputs: optional,
      outputs,
      maturity: r.weighted([
        ['stable', 6],
        ['beta', 3],
        ['alpha', 1],
      ]),
      support_level: r.chance(0.6) ? 'supported' : 'community',
      labels,
      annotations: { 'docs-url': `https://docs.example.com/components/${name}` },
    };
    specs.push(spec);
    if (r.chance(0.1)) {
      specs.push({
        ...spec,
        version: '1.1.0',
        description: `${description} Adds ${r.pick(features)}.`,
      });
    }
  }
  // Popularity: the Zipf rank of a name. Short names (the plain stems of popular bases, written
  // first) are the shared building blocks people look for most; team variants follow.
  const ranked = names
    .map((name, i) => ({ name, key: r.next() * Math.sqrt(i + 1) * name.split('-').length ** 2 }))
    .sort((a, b) => a.key - b.key)
    .map((x) => x.name);
  return { specs, names: ranked };
}

/** One edit (drop, swap, substitute or double a letter) at a seeded position inside the word. */
function typo(word, r) {
  const i = 1 + r.int(word.length - 2);
  switch (r.int(4)) {
    case 0:
      return word.slice(0, i) + word.slice(i + 1);
    case 1:
      return word.slice(0, i - 1) + word[i] + word[i - 1] + word.slice(i + 1);
    case 2:
      return word.slice(0, i) + 'aeiou'[r.int(5)] + word.slice(i + 1);
    default:
      return word.slice(0, i) + word[i] + word.slice(i);
  }
}

const FACETS = 'provider,category,engine,maturity';
const ENGINES = ['terraform', 'pulumi', 'crossplane'];
const CATEGORIES = Object.keys(FEATURES);

/**
 * Distinct search queries (`/v1/components/search?...` paths), `count` of them, as people type
 * into a catalog browser that searches on every keystroke: prefixes of popular names' words (p,
 * po, pos...), whole names, two-word queries, typos of 5+ letter words, and qualifiers
 * (`provider:aws category:database redis`). Every one asks for `limit=20`, facets and a sort as
 * DESIGN.md 10.1 defines them (a server without facets ignores those parameters).
 */
export function searchLog(names, count, { seed = 7 } = {}) {
  const r = rng(seed);
  const pickName = zipf(names.length, 1.07, r);
  const out = [];
  const seen = new Set();
  const add = (q, extra = '') => {
    const key = q.trim();
    if (key === '' || seen.has(key) || out.length >= count) return;
    seen.add(key);
    const sort = r.chance(0.8) ? 'relevance' : r.pick(['name', 'updated']);
    out.push(`/v1/components/search?q=${encodeURIComponent(key)}&limit=20&facets=${FACETS}&sort=${sort}${extra}`);
  };
  let guard = 0;
  while (out.length < count && guard++ < count * 50) {
    const name = names[pickName()];
    const words = name.split('-');
    const kind = r.weighted([
      ['prefix', 40],
      ['two', 20],
      ['typo', 10],
      ['qualifier', 20],
      ['name', 10],
    ]);
    if (kind === 'prefix') {
      // A user typing one word, then a second: every keystroke is a query.
      const w = r.pick(words);
      const stop = Math.min(w.length, 2 + r.int(w.length));
      for (let n = 1; n <= stop; n++) add(w.slice(0, n));
      if (r.chance(0.4)) {
        const w2 = r.pick(words);
        const stop2 = Math.min(w2.length, 1 + r.int(w2.length));
        for (let n = 1; n <= stop2; n++) add(`${w} ${w2.slice(0, n)}`);
      }
    } else if (kind === 'two') {
      const a = r.pick(words);
      const b = r.chance(0.5) ? r.pick(words) : r.pick(TEAMS).split('-')[0];
      add(a === b ? `${a} ${r.pick(CATEGORIES)}` : `${a} ${b}`);
    } else if (kind === 'typo') {
      const long = words.filter((w) => w.length >= 5);
      if (long.length === 0) continue;
      const w = typo(r.pick(long), r);
      add(r.chance(0.3) ? `${w} ${r.pick(words)}` : w);
    } else if (kind === 'qualifier') {
      const parts = [];
      const provider = words.find((w) => PROVIDERS.some(([p]) => p === w));
      if (provider && r.chance(0.7)) parts.push(`provider:${provider}`);
      if (r.chance(0.5)) parts.push(`category:${r.pick(CATEGORIES)}`);
      if (r.chance(0.3)) parts.push(`engine:${r.pick(ENGINES)}`);
      if (r.chance(0.3)) parts.push(`maturity:${r.pick(['stable', 'beta', 'alpha'])}`);
      if (r.chance(0.4)) parts.push(`label:team=${r.pick(TEAMS)}`);
      if (parts.length === 0) parts.push(`provider:${r.weighted(PROVIDERS)}`);
      const word = r.pick(words);
      add(`${parts.join(' ')} ${r.chance(0.5) ? word : word.slice(0, 2 + r.int(word.length))}`);
    } else {
      add(name);
    }
  }
  if (out.length < count) throw new Error(`searchLog: only ${out.length} distinct queries of ${count}`);
  return out;
}

/**
 * Distinct faceted list filters (`/v1/components?...` paths): a provider (Zipf over providers)
 * and one or two labels, sometimes a category, maturity or engine; limit 20, facets, sort.
 */
export function listLog(count, { seed = 11 } = {}) {
  const r = rng(seed);
  const out = [];
  const seen = new Set();
  let guard = 0;
  while (out.length < count && guard++ < count * 50) {
    const params = [`provider=${r.weighted(PROVIDERS)}`];
    const labels = [];
    const labelOf = () =>
      r.weighted([
        [`team=${TEAMS[Math.min(TEAMS.length - 1, Math.floor(r.next() ** 2 * TEAMS.length))]}`, 5],
        [`env=${r.pick(['prod', 'staging', 'dev'])}`, 3],
        [`tier=${1 + r.int(3)}`, 2],
        [`compliance=${r.pick(['pci', 'hipaa', 'sox', 'gdpr'])}`, 1],
        [`cost-center=cc-${1000 + r.int(100)}`, 1],
      ]);
    labels.push(labelOf());
    if (r.chance(0.5)) {
      const second = labelOf();
      if (second.split('=')[0] !== labels[0].split('=')[0]) labels.push(second);
    }
    for (const l of labels) params.push(`label=${encodeURIComponent(l)}`);
    if (r.chance(0.4)) params.push(`category=${r.pick(CATEGORIES)}`);
    if (r.chance(0.2)) params.push(`maturity=${r.pick(['stable', 'beta', 'alpha'])}`);
    if (r.chance(0.2)) params.push(`engine=${r.pick(ENGINES)}`);
    const key = params.join('&');
    // The same filters in another order are the same query: distinct means distinct filters.
    const filters = [...params].sort().join('&');
    if (seen.has(filters)) continue;
    seen.add(filters);
    const facets = r.chance(0.25) ? `${FACETS},label` : FACETS;
    out.push(`/v1/components?${key}&limit=20&facets=${facets}&sort=${r.chance(0.7) ? 'name' : 'updated'}`);
  }
  if (out.length < count) throw new Error(`listLog: only ${out.length} distinct filters of ${count}`);
  return out;
}

/** Exact-version and latest paths for `count` reads of Zipf-drawn names (repeats allowed). */
export function readLog(names, count, { seed = 13 } = {}) {
  const r = rng(seed);
  const pickName = zipf(names.length, 1.07, r);
  const exact = [];
  const latest = [];
  for (let i = 0; i < count; i++) {
    const name = names[pickName()];
    exact.push(`/v1/components/${name}/versions/1.0.0`);
    latest.push(`/v1/components/${names[pickName()]}`);
  }
  return { exact, latest };
}
