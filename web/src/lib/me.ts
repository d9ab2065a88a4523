// The signed-in user, for every screen.
import { createContext, useContext } from "react";
import type { Me } from "../api/models";

export const MeContext = createContext<Me>({ id: 0, username: "", role: "user", api_key_id: null });

export function useMe(): Me {
  return useContext(MeContext);
}
