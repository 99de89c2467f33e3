/** What the AWS Terraform (templates/terraform/aws/) builds for a plan, resource by resource. */

import { type AddonId, AWS_LOAD_BALANCER_SUBNETS, AWS_VPC_CIDR } from "./addons.js";
import { addHelmReleases, addonsFor, facts, hours, type InventoryBuilder } from "./build.js";
import { addEndpointAlarms, ENDPOINT_VARIANT, managedInstanceFor } from "./managed-endpoint.js";
import { chartNameOf } from "./names.js";
import type { InventoryInput } from "./types.js";
import {
  auditStorage,
  averageReplicas,
  batchRunHours,
  imageStorage,
  natData,
  platformLogs,
  predictionLogs,
  replicatedData,
  replicatedImages,
  requests,
  servingNodeDiskGb,
  storedData,
} from "./usage.js";
import { KUBERNETES_VERSIONS } from "./versions.js";

/** Root volume of each managed node and the runner (the EKS module's default disk, the runner's 50 GB). */
const NODE_DISK_GB = 20;
const RUNNER_DISK_GB = 50;
/** Fargate task size of every ECS task definition (serverless.tf). */
const TASK_VCPU = 1;
const TASK_GB = 2;
/** Managed rule groups and the rate rule of the web ACL (waf.tf). */
const WAF_RULES = 3;

/**
 * Terraform block types (and registry modules) that carry a charge: each one the Terraform renders is
 * a resource of the inventory and priced. Free ones (IAM, security groups, ECS clusters, budgets, the
 * first CloudTrail trail of management events) are not listed.
 */
export const AWS_BILLABLE = [
  "aws_route53_zone",
  "aws_ecr_replication_configuration",
  "aws_s3_bucket_replication_configuration",
  "module:terraform-aws-modules/vpc/aws",
  "module:terraform-aws-modules/eks/aws",
  "aws_kms_key",
  "aws_s3_bucket",
  "aws_ecr_repository",
  "aws_elasticache_replication_group",
  "aws_secretsmanager_secret",
  "aws_wafv2_web_acl",
  "aws_ecs_service",
  "aws_lb",
  "aws_cloudwatch_log_group",
  "aws_autoscaling_group",
  "aws_scheduler_schedule",
  "aws_nat_gateway",
  "aws_eip",
  "aws_instance",
  "aws_sagemaker_endpoint",
  "aws_cloudwatch_metric_alarm",
] as const;

/** The add-ons that call AWS APIs and the Pod Identity role each gets (addons.tf, eks-pod-identity module). */
const POD_IDENTITY_ROLES: Partial<Record<AddonId, { module: string; title: string }>> = {
  "cluster-autoscaler": {
    module: "module.cluster_autoscaler_pod_identity",
    title: "Pod Identity: the Cluster Autoscaler's role (its node groups' Auto Scaling groups)",
  },
  "external-secrets": {
    module: "module.external_secrets_pod_identity",
    title: "Pod Identity: External Secrets' role (reads the chart's secrets in Secrets Manager)",
  },
  "aws-load-balancer-controller": {
    module: "module.aws_load_balancer_controller_pod_identity",
    title:
      "Pod Identity: the AWS Load Balancer Controller's role (load balancers, target groups, WAF association)",
  },
};

export function awsInventory(input: InventoryInput, b: InventoryBuilder): void {
  const f = facts(input);
  const { capacity, prices } = input;
  const system = prices.table.systemInstance;
  const nat = f.zones === 1 || input.singleNatGateway ? 1 : f.zones;
  const key = "aws_kms_key.main";
  const encrypted: string[] = [];

  b.add({
    address: "module.vpc",
    file: "network.tf",
    title: `VPC across ${f.zones} zones, ${nat} NAT gateway${nat > 1 ? "s" : ""}`,
    item: "NAT gateways",
    meters: [
      { price: "natGatewayHourly", quantity: hours(nat), unit: "gateway-hours" },
      {
        price: "publicIpv4Hourly",
        quantity: hours(nat),
        unit: "public IPv4 address-hours (one per NAT gateway)",
      },
      { price: "natGatewayPerGb", ...natData(input), unit: "GB processed" },
    ],
    implements: ["private-network", "egress-nat"],
    attributes: { zones: f.zones, natGateways: nat, singleNatGateway: nat === 1 },
  });
  b.vars.zones = f.zones;
  b.vars.vpcCidr = AWS_VPC_CIDR;
  b.vars.singleNatGateway = nat === 1;
  b.add({
    address: "module.vpc.aws_cloudwatch_log_group.flow_log[0]",
    file: "network.tf",
    title: "VPC flow logs",
    item: "Platform logs",
    meters: [{ price: "logIngestPerGb", ...platformLogs("VPC flow-log records", 5), unit: "GB ingested" }],
    implements: ["flow-logs"],
  });

  if (f.cmk)
    b.add({
      address: key,
      file: "kms.tf",
      title: "KMS key (customer managed, rotated yearly)",
      item: "Customer-managed keys",
      meters: [{ price: "kmsKeyMonthly", quantity: 1, unit: "key-months" }],
      implements: ["customer-managed-key", "encryption-at-rest"],
    });

  b.add({
    address: "aws_s3_bucket.data",
    file: "storage.tf",
    title: "Data bucket (versioned, encrypted, private)",
    item: "Object storage",
    meters: [{ price: "objectStoragePerGbMonth", ...storedData(input), unit: "GB-month" }],
    implements: ["encryption-at-rest", "versioned-data"],
  });
  encrypted.push("aws_s3_bucket.data");
  b.add({
    address: "aws_s3_bucket_lifecycle_configuration.data",
    file: "storage.tf",
    title: "Retention rules of the data bucket",
    implements: ["data-retention"],
  });

  b.add({
    address: "aws_ecr_repository.serving",
    file: "registry.tf",
    title: "ECR repository of the serving image",
    item: "Container registry",
    meters: [{ price: "registryStoragePerGbMonth", ...imageStorage(input), unit: "GB-month" }],
  });
  encrypted.push("aws_ecr_repository.serving");

  // one trail for the account: it records every region's API calls, a secondary region's included
  if (!input.secondary) {
    b.add({
      address: "aws_cloudtrail.main",
      file: "audit.tf",
      title: "CloudTrail (all regions, log file validation)",
      implements: ["audit-trail"],
    });
    b.add({
      address: "aws_s3_bucket.audit",
      file: "audit.tf",
      title: f.immutableAudit ? "Audit bucket (Object Lock, compliance mode)" : "Audit bucket",
      item: f.immutableAudit ? "Immutable audit trail" : "Audit trail",
      meters: [{ price: "auditLogPerGbMonth", ...auditStorage(f.immutableAudit), unit: "GB-month" }],
      implements: f.immutableAudit ? ["audit-trail", "immutable-audit-trail"] : ["audit-trail"],
    });
    b.relate("writes", "aws_cloudtrail.main", ["aws_s3_bucket.audit"]);
    encrypted.push("aws_cloudtrail.main");
  }

  const replicas = averageReplicas(input);
  if (f.cluster) {
    b.add({
      address: "module.eks.aws_eks_cluster.this[0]",
      file: "cluster.tf",
      title: "EKS cluster (private API, secrets encrypted)",
      item: "Managed Kubernetes control plane",
      meters: [{ price: "clusterFeeHourly", quantity: hours(1), unit: "cluster-hours" }],
      implements: ["workload-identity", "private-network"],
    });
    b.add({
      address: "module.eks.aws_cloudwatch_log_group.this[0]",
      file: "cluster.tf",
      title: "EKS control-plane logs (api, audit, authenticator)",
      item: "Platform logs",
      meters: [
        {
          price: "logIngestPerGb",
          ...platformLogs("EKS api, audit and authenticator logs", 10),
          unit: "GB ingested",
        },
      ],
      implements: ["audit-trail"],
    });
    b.add({
      address: 'module.eks.module.eks_managed_node_group["system"]',
      file: "cluster.tf",
      title: `System node group: 2 x ${system}`,
      item: "System node pool",
      meters: [
        { price: `instance:${system}`, quantity: hours(2), unit: "instance-hours" },
        { price: "blockStoragePerGbMonth", quantity: 2 * NODE_DISK_GB, unit: "GB-month of node disk" },
      ],
      attributes: { nodes: 2, instanceType: system },
    });
    b.vars.kubernetesVersion = KUBERNETES_VERSIONS.aws.version;
    // the chart's pods: EKS Pod Identity binds its service account, in every environment's namespace
    b.vars.workloadServiceAccount = chartNameOf(input.spec.metadata.name);
    b.add({
      address: "aws_eks_pod_identity_association.workload",
      file: "workload.tf",
      title: `Pod Identity: the chart's service account in ${f.environments.length > 1 ? "each environment's namespace" : "its namespace"}`,
      implements: ["workload-identity"],
      relations: [{ kind: "grants", target: "aws_s3_bucket.data" }],
    });
    b.add({
      address: "aws_iam_role.workload",
      file: "workload.tf",
      title: "Workload role: score's input and predictions in the data bucket",
    });
    b.vars.systemNodes = 2;
    b.vars.systemNodesMax = 3;
    // the serving nodes' root volume: the module's default, or room for an LLM engine's checkpoint
    const servingDisk = servingNodeDiskGb(input, NODE_DISK_GB);
    b.vars.servingDiskGb = servingDisk > NODE_DISK_GB ? servingDisk : 0;
    const preProduction = f.preProductionNodes;
    b.add({
      address: 'module.eks.module.eks_managed_node_group["serving"]',
      file: "cluster.tf",
      title: `${f.gpu ? "GPU" : "Serving"} node group: ${capacity.replicasMin}-${capacity.replicasMax} x ${capacity.instanceType}`,
      item: f.computeItem,
      meters: [
        f.batch
          ? batchMeter(input, `instance:${capacity.instanceType}`)
          : {
              price: `instance:${capacity.instanceType}`,
              quantity: hours(replicas + preProduction),
              unit: `instance-hours (${replicas} average of ${capacity.replicasMin}-${capacity.replicasMax} in production${preProduction ? ` + ${preProduction} pre-production (${f.preProduction.join(", ")}) in their namespaces` : ""})`,
            },
        {
          price: "blockStoragePerGbMonth",
          quantity: (replicas + preProduction) * servingDisk,
          unit: `GB-month of node disk (${servingDisk} GB per node${servingDisk > NODE_DISK_GB ? ": the LLM engine's checkpoint and images" : ""})`,
        },
      ],
      attributes: {
        min: capacity.replicasMin,
        max: capacity.replicasMax,
        instanceType: capacity.instanceType,
      },
    });
    encrypted.push("module.eks.aws_eks_cluster.this[0]");
    const addons = addonsFor(input);
    addHelmReleases(b, addons);
    // the controllers that call AWS APIs get a role through EKS Pod Identity (an AWS API call: built
    // here however the chart itself is installed)
    for (const addon of addons) {
      const role = POD_IDENTITY_ROLES[addon.id];
      if (!role) continue;
      b.add({
        address: role.module,
        file: "addons.tf",
        title: role.title,
        implements: ["workload-identity"],
      });
    }
    if (addons.some((a) => a.id === "external-secrets")) {
      // what External Secrets syncs into each environment's namespace: its own serving tokens
      // (Terraform generates them), beside the online store's URL (online-store.tf)
      b.add({
        address: "aws_secretsmanager_secret.serve_tokens",
        file: "secrets.tf",
        title: `Secrets Manager: the serving tokens of ${f.environments.length > 1 ? `each environment (${f.environments.join(", ")})` : "the environment"}`,
        item: "Secrets",
        meters: [{ price: "secretMonthly", quantity: f.environments.length, unit: "secret-months" }],
        implements: ["secret-store"],
      });
      encrypted.push("aws_secretsmanager_secret.serve_tokens");
      b.vars.externalSecrets = true;
    }
    const ingress = addons.find((a) => a.id === "aws-load-balancer-controller");
    if (ingress) {
      // its own subnets, which the chart's NetworkPolicy admits (src/infra/addons.ts)
      b.vars.loadBalancerSubnets = AWS_LOAD_BALANCER_SUBNETS;
      // the Ingress's load balancer, built by the controller: priced on what installs it
      const entry =
        ingress.install.via === "terraform"
          ? ingress.install.address
          : POD_IDENTITY_ROLES[ingress.id]!.module;
      const controller = b.resources.find((r) => r.address === entry)!;
      controller.item = LOAD_BALANCER_ITEM;
      controller.meters.push(...albMeters(input, "load balancer-hours (the Ingress's internal ALB)"));
    } else if (f.realtime)
      b.exclude(
        "Load balancer",
        hours(prices.row("loadBalancerHourly").usd),
        "the chart's Service is ClusterIP and it renders no Ingress without a WAF to put in front of it: clients reach the serving core inside the cluster (namespaces labelled stackwright.dev/clients); an entry point from outside (its load balancer) is the customer's",
      );
    b.exclude(
      "Container logs",
      predictionLogs(input).quantity * prices.row("logIngestPerGb").usd,
      `no log agent ships the pods' logs to CloudWatch: ${predictionLogs(input).assumption} would cost this at CloudWatch's ingestion rate`,
    );
  } else if (input.choices["serving.runtime"] === "managed-endpoint") {
    sagemakerResources(input, b, encrypted, replicas);
  } else {
    b.add({
      address: "aws_ecs_cluster.main",
      file: "serverless.tf",
      title: "ECS cluster (Fargate, container insights)",
      implements: ["workload-identity"],
    });
    b.add({
      address: "aws_security_group.serving",
      file: "serverless.tf",
      title: "Serving tasks' security group (inbound from the load balancer only)",
      implements: ["network-policy"],
    });
    b.add({
      address: "aws_cloudwatch_log_group.serving",
      file: "serverless.tf",
      title: "Serving log group (90 days)",
      item: "Prediction and service logs",
      meters: [{ price: "logIngestPerGb", ...predictionLogs(input), unit: "GB ingested" }],
    });
    encrypted.push("aws_cloudwatch_log_group.serving");
    const task = (count: number, what: string) => [
      { price: "serverlessVcpuHourly", quantity: hours(count * TASK_VCPU), unit: `vCPU-hours (${what})` },
      { price: "serverlessGbHourly", quantity: hours(count * TASK_GB), unit: `GB-hours (${what})` },
    ];
    if (f.batch) {
      const { runs, hoursPerRun } = batchRunHours(input);
      const taskHours = runs * hoursPerRun * capacity.replicasMax;
      b.add({
        address: "aws_scheduler_schedule.score",
        file: "serverless.tf",
        title: `Schedule: ${capacity.replicasMax} score tasks per run`,
        item: "Batch scoring compute",
        meters: [
          {
            price: "serverlessVcpuHourly",
            quantity: Math.round(taskHours * TASK_VCPU * 100) / 100,
            unit: "vCPU-hours",
            assumption: `${runs} runs/month x ${hoursPerRun} h x ${capacity.replicasMax} tasks of ${TASK_VCPU} vCPU`,
          },
          {
            price: "serverlessGbHourly",
            quantity: Math.round(taskHours * TASK_GB * 100) / 100,
            unit: "GB-hours",
            assumption: `${runs} runs/month x ${hoursPerRun} h x ${capacity.replicasMax} tasks of ${TASK_GB} GB`,
          },
        ],
      });
      b.relate("runs", "aws_scheduler_schedule.score", [
        `aws_ecs_task_definition.serving["${f.production}"]`,
      ]);
    } else {
      for (const env of f.environments) {
        const production = env === f.production;
        b.add({
          address: `aws_ecs_service.serving["${env}"]`,
          file: "serverless.tf",
          title: `ECS service (${env})${production ? `: ${capacity.replicasMin}-${capacity.replicasMax} tasks` : ": 1 task"}`,
          item: production ? f.computeItem : "Pre-production environments",
          meters: production
            ? task(replicas, `${replicas} average tasks`)
            : task(1, `1 always-on task in ${env}`),
        });
      }
      if (f.realtime) {
        b.add({
          address: "aws_lb.serving",
          file: "serverless.tf",
          title: "Application load balancer (HTTPS)",
          item: LOAD_BALANCER_ITEM,
          meters: albMeters(input, "load balancer-hours"),
          implements: ["tls-in-transit"],
        });
        b.relate("fronts", "aws_lb.serving", [`aws_ecs_service.serving["${f.production}"]`]);
      }
    }
  }

  if (f.onlineStore) {
    const nodes = capacity.zones > 1 ? 2 : 1;
    b.add({
      address: "aws_elasticache_replication_group.features",
      file: "online-store.tf",
      title: `ElastiCache for Redis: ${nodes} x ${prices.table.onlineStoreNode}${nodes > 1 ? " (primary + replica, multi-AZ)" : ""}`,
      item: "Online feature store",
      meters: [{ price: "onlineStoreNodeHourly", quantity: hours(nodes), unit: "node-hours" }],
      // TLS to the store, but "tls-in-transit" is the entry point's: a control about data in transit is
      // not met by one encrypted hop
      implements: ["encryption-at-rest"],
      attributes: { nodes },
    });
    b.vars.onlineStoreNodes = nodes;
    encrypted.push("aws_elasticache_replication_group.features");
    b.add({
      address: "aws_secretsmanager_secret.features",
      file: "online-store.tf",
      title: "Secret: the feature store's AUTH token",
      item: "Secrets",
      meters: [{ price: "secretMonthly", quantity: 1, unit: "secret-months" }],
      implements: ["secret-store"],
    });
    encrypted.push("aws_secretsmanager_secret.features");
  }

  if (f.waf) {
    // the serverless path's load balancer, or the cluster's Ingress load balancer (its controller
    // applies the web ACL named on its ingress class)
    const entryPoint = b.resources.find((r) => r.item === LOAD_BALANCER_ITEM)?.address;
    const attached = entryPoint !== undefined;
    b.add({
      address: "aws_wafv2_web_acl.edge",
      file: "waf.tf",
      title: `WAF web ACL (managed rules, rate limit)${attached ? "" : ": not attached to an entry point"}`,
      item: "Web application firewall",
      meters: [
        { price: "wafAclMonthly", quantity: 1, unit: "web ACL-months" },
        { price: "wafRuleMonthly", quantity: WAF_RULES, unit: "rule-months" },
        // requests are billed as the ACL inspects them: none while it is attached to nothing
        ...(attached
          ? [{ price: "wafRequestsPerMillion", ...requests(input), unit: "million requests" }]
          : []),
      ],
      implements: attached ? ["waf", "waf-attached"] : ["waf"],
    });
    if (entryPoint) b.relate("protects", "aws_wafv2_web_acl.edge", [entryPoint]);
  }

  if (f.runner) {
    b.add({
      address: "aws_autoscaling_group.runner",
      file: "runner.tf",
      title: `Deploy runner: 1 x ${system} inside the VPC`,
      item: "Deploy runner inside the network",
      meters: [
        { price: `instance:${system}`, quantity: hours(1), unit: "instance-hours" },
        { price: "blockStoragePerGbMonth", quantity: RUNNER_DISK_GB, unit: "GB-month of runner disk" },
      ],
    });
    b.add({
      address: "aws_secretsmanager_secret.runner",
      file: "runner.tf",
      title: "Secret: the runner's registration token",
      item: "Secrets",
      meters: [{ price: "secretMonthly", quantity: 1, unit: "secret-months" }],
      implements: ["secret-store"],
    });
    encrypted.push("aws_autoscaling_group.runner", "aws_secretsmanager_secret.runner");
  }

  b.add({
    address: "aws_iam_role.deploy",
    file: "deploy.tf",
    title: `Deploy roles (GitHub OIDC), one per environment: ${f.environments.join(", ")}`,
    implements: ["deploy-identity"],
  });
  // the budget watches the account's spend, every region's
  if (f.budget && !input.secondary)
    b.add({
      address: "aws_budgets_budget.monthly",
      file: "budget.tf",
      title: "Monthly budget with forecast alerts, and a cost anomaly monitor",
      implements: ["budget-alerts"],
    });
  if (f.cmk) {
    b.relate("encrypts", key, encrypted);
    // the key policy's statements (kms.tf), one per kind of user: services that encrypt for themselves
    // need a statement of their own; everything else (S3, ECR, ElastiCache, Secrets Manager, EKS
    // secrets) uses the key through the IAM policies of the roles that call it, which the account
    // statement enables
    const account = "${data.aws_caller_identity.current.account_id}";
    b.grantKey(
      encrypted,
      [
        { holder: key, id: "CloudTrail", principal: "cloudtrail.amazonaws.com", type: "aws_cloudtrail" },
        {
          holder: key,
          id: "CloudWatchLogs",
          principal: "logs.${var.region}.amazonaws.com",
          type: "aws_cloudwatch_log_group",
        },
        // CloudWatch alarms publish to the alarm topic, which the key encrypts
        { holder: key, id: "CloudWatchAlarms", principal: "cloudwatch.amazonaws.com", type: "aws_sns_topic" },
        {
          holder: key,
          id: "AutoScalingVolumes",
          principal: `arn:aws:iam::${account}:role/aws-service-role/autoscaling.amazonaws.com/AWSServiceRoleForAutoScaling`,
          type: "aws_autoscaling_group",
        },
      ],
      { holder: key, id: "AccountIamPolicies", principal: `arn:aws:iam::${account}:root` },
    );
  }
}

/**
 * A SageMaker real-time endpoint per environment (sagemaker.tf): the execution role, the endpoints'
 * security group in the private subnets, a log group each, the model, its endpoint configuration and
 * the endpoint (priced at SageMaker's rate for the instance type mirroring the sized one), production's
 * target-tracking autoscaling, and the alarms that page and roll a release back.
 */
function sagemakerResources(
  input: InventoryInput,
  b: InventoryBuilder,
  encrypted: string[],
  replicas: number,
): void {
  const f = facts(input);
  const { capacity } = input;
  const instance = managedInstanceFor(input, b);
  b.add({
    address: "aws_iam_role.sagemaker",
    file: "sagemaker.tf",
    title: "SageMaker execution role: pulls the serving image, writes the endpoints' logs and metrics",
    implements: ["workload-identity"],
  });
  b.add({
    address: "aws_security_group.endpoint",
    file: "sagemaker.tf",
    title:
      "Endpoints' security group in the private subnets (no inbound; invocations arrive through SageMaker's API)",
    implements: ["network-policy"],
  });
  b.add({
    address: "aws_cloudwatch_log_group.endpoint",
    file: "sagemaker.tf",
    title: "Each endpoint's log group (90 days)",
    item: "Prediction and service logs",
    meters: [{ price: "logIngestPerGb", ...predictionLogs(input), unit: "GB ingested" }],
  });
  encrypted.push("aws_cloudwatch_log_group.endpoint");
  b.add({
    address: "aws_sagemaker_model.serving",
    file: "sagemaker.tf",
    title: "The model each endpoint is created with: the serving image, configured through its environment",
  });
  b.add({
    address: "aws_sagemaker_endpoint_configuration.serving",
    file: "sagemaker.tf",
    title: `Endpoint configuration: one variant (${ENDPOINT_VARIANT}) on ${instance}`,
  });
  for (const env of f.environments) {
    const production = env === f.production;
    const address = `aws_sagemaker_endpoint.serving["${env}"]`;
    b.add({
      address,
      file: "sagemaker.tf",
      title: `SageMaker real-time endpoint (${env})${production ? `: ${capacity.replicasMin}-${capacity.replicasMax} x ${instance}` : `: 1 x ${instance}`}`,
      item: production ? f.computeItem : "Pre-production environments",
      meters: [
        {
          price: `instance:${instance}`,
          quantity: hours(production ? replicas : 1),
          unit: production
            ? `instance-hours (${replicas} average of ${capacity.replicasMin}-${capacity.replicasMax})`
            : `instance-hours (1 instance in ${env})`,
        },
      ],
      attributes: { instanceType: instance },
    });
    b.relate("runs", address, [
      "aws_sagemaker_endpoint_configuration.serving",
      "aws_sagemaker_model.serving",
    ]);
  }
  b.add({
    address: "aws_appautoscaling_target.serving",
    file: "sagemaker.tf",
    title: `Production's instances: ${capacity.replicasMin}-${capacity.replicasMax}`,
  });
  b.add({
    address: "aws_appautoscaling_policy.serving",
    file: "sagemaker.tf",
    title: "Target tracking on invocations per instance",
  });
  b.add({
    address: "aws_sns_topic.alarms",
    file: "sagemaker.tf",
    title: "Alarm notifications to metadata.contacts",
  });
  if (f.cmk) encrypted.push("aws_sns_topic.alarms");
  addEndpointAlarms(b, f.environments.length, {
    type: "aws_cloudwatch_metric_alarm",
    file: "sagemaker.tf",
    what: "alarm",
    does: "pages, and rolls a release back",
    unit: "alarm-months",
  });
}

/** The cost item of the load balancer in front of the serving core (serverless.tf's, or the Ingress's). */
const LOAD_BALANCER_ITEM = "Load balancer";

/** An application load balancer's hours and capacity units at the plan's average request rate. */
function albMeters(input: InventoryInput, hoursUnit: string) {
  const lcu = Math.round(Math.max(1, input.averageQps / 1000) * 100) / 100;
  return [
    { price: "loadBalancerHourly", quantity: hours(1), unit: hoursUnit },
    {
      price: "loadBalancerCapacityUnitHourly",
      quantity: hours(lcu),
      unit: "LCU-hours",
      assumption: `${lcu} LCU at ${Math.round(input.averageQps)} requests/s average (1 LCU per 1,000 new connections/s)`,
    },
  ];
}

function batchMeter(input: InventoryInput, price: string) {
  const { runs, hoursPerRun } = batchRunHours(input);
  const replicas = input.capacity.replicasMax;
  return {
    price,
    quantity: Math.round(runs * hoursPerRun * replicas * 100) / 100,
    unit: "instance-hours",
    assumption: `${runs} runs/month x ${hoursPerRun} h x ${replicas} nodes; nothing runs between runs`,
    ...(input.spotForBatch
      ? {
          discount: {
            fraction: input.prices.row("spotDiscount").usd,
            because: "spot capacity (interruptible, retried)",
          },
        }
      : {}),
  };
}

export { batchMeter };

/**
 * What joins the regions of a multi-region plan (infra/terraform/aws/global/, applied after every
 * region's stack): the data bucket replicated to every other region with Replication Time Control
 * (active-passive: from the primary; active-active: each bucket to every other), and, where the chart
 * has an Ingress, a private Route 53 zone over every region's VPC whose records point at each
 * region's load balancer and follow its health (failover records, or latency records active-active).
 */
export function awsGlobalInventory(
  input: InventoryInput,
  b: InventoryBuilder,
  regions: readonly string[],
  routed: boolean,
): void {
  const active = input.spec.availability.failover === "active-active";
  const sources = active ? regions : regions.slice(0, 1);
  b.add({
    address: "aws_iam_role.replication",
    file: "global/replication.tf",
    title: "S3 replication role: reads each source bucket, writes its replicas",
  });
  for (const source of sources) {
    const destinations = regions.filter((r) => r !== source).length;
    const usage = replicatedData(input, destinations);
    b.add({
      address: `aws_s3_bucket_replication_configuration.${hclName(source)}`,
      file: "global/replication.tf",
      title: `Data bucket replication from ${source} to ${regions.filter((r) => r !== source).join(", ")} (Replication Time Control: 15 minutes)`,
      item: "Cross-region replication",
      meters: [
        { price: "interRegionTransferPerGb", ...usage, unit: "GB sent between regions" },
        { price: "replicationTimeControlPerGb", ...usage, unit: "GB replicated with RTC" },
      ],
      implements: ["versioned-data"],
    });
  }
  if (input.choices["serving.runtime"] === "kubernetes") {
    // the build pushes to the primary's registry; every other region's cluster pulls from its own
    b.add({
      address: "aws_ecr_replication_configuration.images",
      file: "global/replication.tf",
      title: `ECR replication of the serving image from ${regions[0]} to ${regions.slice(1).join(", ")}`,
      item: "Cross-region replication",
      meters: [
        {
          price: "interRegionTransferPerGb",
          ...replicatedImages(input, regions.length - 1),
          unit: "GB of images sent between regions",
        },
      ],
    });
  }
  if (routed) {
    b.add({
      address: "aws_route53_zone.serving",
      file: "global/routing.tf",
      title: `Private Route 53 zone over every region's VPC: ${active ? "latency" : "failover"} records on each region's load balancer, following its health`,
      item: "Global routing",
      meters: [{ price: "hostedZoneMonthly", quantity: 1, unit: "hosted zone-months" }],
    });
    for (const region of regions) {
      const address = `aws_route53_record.${hclName(region)}`;
      b.add({
        address,
        file: "global/routing.tf",
        title: `The serving name's ${region} record: out of rotation while that region's load balancer has no healthy target`,
      });
      b.relate("fronts", address, ["aws_route53_zone.serving"]);
    }
  }
}

/** A region as an HCL name (us-west-2 -> us_west_2). */
export function hclName(region: string): string {
  return region.replaceAll("-", "_");
}
