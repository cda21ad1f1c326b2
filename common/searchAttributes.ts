/**
 * kubeha's typed search attributes: find runs by cluster and see their current step in the Web UI's list.
 */
import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';

/** Search attributes kubeha sets on its workflows. */
export const SEARCH_ATTRIBUTES = {
  cluster: defineSearchAttributeKey('KubehaCluster', SearchAttributeType.KEYWORD),
  step: defineSearchAttributeKey('KubehaStep', SearchAttributeType.KEYWORD),
  phase: defineSearchAttributeKey('KubehaPhase', SearchAttributeType.KEYWORD),
  failoverState: defineSearchAttributeKey('KubehaFailoverState', SearchAttributeType.KEYWORD),
} as const;
