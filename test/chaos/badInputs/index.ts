/**
 * The bad-input campaign's table: per workflow, its schema, a valid example and the cases built from it.
 */
import type { z } from 'zod';
import { backupEtcdInputSchema } from '../../../common/inputs/backupEtcd';
import { bootstrapStackedEtcdInputSchema } from '../../../common/inputs/bootstrapStackedEtcd';
import { failoverToEastInputSchema } from '../../../common/inputs/failoverToEast';
import { linkMeshClustersInputSchema } from '../../../common/inputs/linkMeshClusters';
import { recoverControlPlaneInputSchema } from '../../../common/inputs/recoverControlPlane';
import { rotateCertificateKeyInputSchema } from '../../../common/inputs/rotateCertificateKey';
import { backupCases, validBackupInput } from './backup';
import { bootstrapCases, validBootstrapInput } from './bootstrap';
import type { BadInputCase } from './cases';
import { failoverCases, validFailoverInput } from './failover';
import { meshCases, validMeshInput } from './mesh';
import { recoverCases, validRecoverInput } from './recover';
import { rotateCases, validRotateInput } from './rotate';

/** One workflow of the campaign. */
export interface WorkflowCampaign {
  workflowType: 'BootstrapStackedEtcd' | 'LinkMeshClusters' | 'RotateCertificateKey' | 'FailoverToEast' | 'BackupEtcd' | 'RecoverControlPlane';
  schema: z.ZodType;
  valid: () => Record<string, unknown>;
  cases: () => BadInputCase[];
}

/** The workflows and their bad inputs. */
export const CAMPAIGNS: WorkflowCampaign[] = [
  { workflowType: 'BootstrapStackedEtcd', schema: bootstrapStackedEtcdInputSchema, valid: validBootstrapInput, cases: bootstrapCases },
  { workflowType: 'LinkMeshClusters', schema: linkMeshClustersInputSchema, valid: validMeshInput, cases: meshCases },
  { workflowType: 'RotateCertificateKey', schema: rotateCertificateKeyInputSchema, valid: validRotateInput, cases: rotateCases },
  { workflowType: 'FailoverToEast', schema: failoverToEastInputSchema, valid: validFailoverInput, cases: failoverCases },
  { workflowType: 'BackupEtcd', schema: backupEtcdInputSchema, valid: validBackupInput, cases: backupCases },
  { workflowType: 'RecoverControlPlane', schema: recoverControlPlaneInputSchema, valid: validRecoverInput, cases: recoverCases },
];
