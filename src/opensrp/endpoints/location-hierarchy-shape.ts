/**
 * The `LocationHierarchy` custom resource (spec §6.2), as the Android app and fhir-web parse it:
 *
 *   LocationHierarchyTree.locationsHierarchy
 *     .listOfNodes   { treeNodeId, treeNode: [TreeNode] }       ← an ARRAY at the root
 *     .parentChildren[ { identifier, childIdentifiers[] } ]
 *   TreeNode { nodeId, label, node, parent?, children?: [{ childId, treeNode: TreeNode }] }  ← an OBJECT
 *
 * Node ids are `Location/<id>`. Empty lists are left out, as HAPI's encoder does.
 */
import type { Location } from '@medplum/fhirtypes';
import type { LocationTree } from '../sync/locations.js';
import { CUSTOM_RESOURCE_PROFILE } from './practitioner-detail.js';

export interface TreeNode {
  nodeId: string;
  label?: string;
  node: Location;
  parent?: string;
  children?: { childId: string; treeNode: TreeNode }[];
}

export interface ParentChildren {
  identifier: string;
  childIdentifiers: string[];
}

export interface LocationHierarchy {
  resourceType: 'LocationHierarchy';
  id: string;
  meta: { profile: string[] };
  locationId?: string;
  LocationHierarchyTree?: {
    locationsHierarchy: {
      listOfNodes: { treeNodeId: string; treeNode: TreeNode[] };
      parentChildren?: ParentChildren[];
    };
  };
}

export const NOT_FOUND_HIERARCHY_ID = 'Location Resource : Not Found';

/** The placeholder upstream answers for an unknown Location id. */
export function notFoundHierarchy(): LocationHierarchy {
  return {
    resourceType: 'LocationHierarchy',
    id: NOT_FOUND_HIERARCHY_ID,
    meta: { profile: [CUSTOM_RESOURCE_PROFILE] },
  };
}

/**
 * The hierarchy below `rootId`. Descendants for which `keep` is false are left out and their kept
 * descendants hang from the nearest kept ancestor; the root itself is always the anchor.
 */
export function locationHierarchy(
  rootId: string,
  tree: LocationTree,
  keep: (location: Location) => boolean = () => true,
): LocationHierarchy {
  const root = tree.byId.get(rootId);
  if (!root) return notFoundHierarchy();
  const rows: ParentChildren[] = [];
  const rootParent = parentReference(root);
  if (rootParent) rows.push({ identifier: rootParent, childIdentifiers: [nodeId(rootId)] });

  // Breadth first, so parentChildren lists parents in level order (as upstream, which adds
  // Locations level by level).
  const rootNode = treeNode(root);
  const queue: { id: string; node: TreeNode }[] = [{ id: rootId, node: rootNode }];
  for (let item = queue.shift(); item; item = queue.shift()) {
    const childIds = keptChildren(item.id, tree, keep);
    if (childIds.length === 0) continue;
    item.node.children = childIds.map((id) => {
      const child = treeNode(tree.byId.get(id)!);
      queue.push({ id, node: child });
      return { childId: child.nodeId, treeNode: child };
    });
    rows.push({ identifier: item.node.nodeId, childIdentifiers: childIds.map(nodeId) });
  }

  return {
    resourceType: 'LocationHierarchy',
    id: `Location Resource : ${rootId}`,
    meta: { profile: [CUSTOM_RESOURCE_PROFILE] },
    locationId: rootId,
    LocationHierarchyTree: {
      locationsHierarchy: {
        listOfNodes: { treeNodeId: nodeId(rootId), treeNode: [rootNode] },
        ...(rows.length > 0 ? { parentChildren: rows } : {}),
      },
    },
  };
}

/** Children to show under `id`: kept children, and in place of each left-out child its kept ones. */
function keptChildren(id: string, tree: LocationTree, keep: (location: Location) => boolean): string[] {
  const result: string[] = [];
  for (const childId of tree.childrenOf.get(id) ?? []) {
    const child = tree.byId.get(childId);
    if (!child) continue;
    if (keep(child)) result.push(childId);
    else result.push(...keptChildren(childId, tree, keep));
  }
  return result;
}

function treeNode(location: Location): TreeNode {
  const parent = parentReference(location);
  return {
    nodeId: nodeId(location.id!),
    ...(location.name === undefined ? {} : { label: location.name }),
    node: location,
    ...(parent ? { parent } : {}),
  };
}

function nodeId(id: string): string {
  return `Location/${id}`;
}

/** `partOf.reference` as stored, without a `/_history/…` suffix. */
function parentReference(location: Location): string | undefined {
  const reference = location.partOf?.reference;
  return reference ? reference.replace(/\/_history\/.*$/, '') : undefined;
}
