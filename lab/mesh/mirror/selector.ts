/**
 * metav1.LabelSelector matching (matchLabels and matchExpressions In, NotIn, Exists, DoesNotExist), as
 * the service mirror applies a Link's `selector` to the linked cluster's Services. An unset or empty
 * selector selects nothing: the mirror treats it so, unlike Kubernetes, so that a Link without a
 * selector never exports every Service.
 */

/** A label selector as the Link's spec carries it. */
export interface LabelSelector {
  matchLabels?: Record<string, string>;
  matchExpressions?: Array<{ key: string; operator: string; values?: string[] }>;
}

/** Whether `labels` match `selector` (false for an unset or empty selector, or an unknown operator). */
export function selects(selector: LabelSelector | undefined, labels: Record<string, string> = {}): boolean {
  const matchLabels = Object.entries(selector?.matchLabels ?? {});
  const expressions = selector?.matchExpressions ?? [];
  if (matchLabels.length + expressions.length === 0) return false;
  if (!matchLabels.every(([key, value]) => labels[key] === value)) return false;
  return expressions.every(({ key, operator, values = [] }) => {
    const has = Object.prototype.hasOwnProperty.call(labels, key);
    switch (operator) {
      case 'In':
        return has && values.includes(labels[key]);
      case 'NotIn':
        return !has || !values.includes(labels[key]);
      case 'Exists':
        return has;
      case 'DoesNotExist':
        return !has;
      default:
        return false;
    }
  });
}
