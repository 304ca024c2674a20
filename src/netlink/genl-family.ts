/**
 * The generic netlink controller (nlctrl): a family's id and version by its
 * name, the first thing a generic netlink client asks. Pure.
 */
import {
  CTRL_ATTR_FAMILY_ID,
  CTRL_ATTR_FAMILY_NAME,
  CTRL_ATTR_VERSION,
  CTRL_CMD_GETFAMILY,
  GENL_ID_CTRL,
} from './constants.js';
import { type Attrs, genlMessage, type MessageHeader, need, readU16, readU32, str } from './wire.js';

/** CTRL_CMD_GETFAMILY for a family name. */
export function getFamilyMessage(h: Omit<MessageHeader, 'type'>, name: string): Buffer {
  return genlMessage({ ...h, type: GENL_ID_CTRL }, CTRL_CMD_GETFAMILY, 1, [str(CTRL_ATTR_FAMILY_NAME, name)]);
}

/** The id and version of a family from the controller's reply. */
export function decodeFamily(attrs: Attrs): { id: number; version: number } {
  return {
    id: readU16(need(attrs, CTRL_ATTR_FAMILY_ID, 'CTRL_ATTR_FAMILY_ID')),
    version: readU32(need(attrs, CTRL_ATTR_VERSION, 'CTRL_ATTR_VERSION')),
  };
}
