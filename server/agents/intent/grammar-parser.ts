/**
 * The embedded intent model: a deterministic, offline grammar/slot parser. It normalises the
 * utterance (case, punctuation, resolutions said as words), splits it into clauses ("and",
 * "then", commas, sentences), and matches each clause against small phrase grammars with
 * synonyms; slots (pose, rung, object, position, side, id) are filled from the clause and the
 * context. A stop anywhere wins over everything else. Questions ("what if…", "how would…")
 * turn requests into impact evaluations or previews, never into actions.
 *
 * It grants nothing: there is no role intent, and wording such as "as admin" or "without
 * approval" is ignored; a move is always a request for a plan the operators must approve.
 */
import {
  MAX_UTTERANCE_CHARS,
  RESOLUTION_RUNGS,
  finaliseIntents,
  type AddObjectIntent,
  type Intent,
  type IntentContext,
  type IntentResult,
  type Rung,
  type WorldPoint,
} from "./intents.ts";
import { refuseUtterance, throwIfAborted, type IntentModel } from "./intent-model.ts";

/** A clause's reading and how sure the grammar is of it (0…1). */
interface Match {
  readonly intent: Intent;
  readonly score: number;
}

/** Confidence of an utterance of which nothing was understood. */
const UNKNOWN_CONFIDENCE = 0.1;
/** Multiplier per clause of several words that matched nothing. */
const UNMATCHED_CLAUSE_PENALTY = 0.9;

/** Marks a clause boundary in normalised text. */
const SEP = " | ";

/**
 * Lowercase, unify resolutions said as words or with spaces ("four k", "4 k", "ultra hd" →
 * `4k`), turn sentence punctuation and commas into clause separators (`|`) while keeping
 * decimal points, negative numbers and ids such as `obj-3`, and drop the rest.
 */
export function normaliseUtterance(utterance: string): string {
  let s = utterance.normalize("NFKC").toLowerCase();
  s = s.replace(/[\u2018\u2019\u02bc']/g, "");
  // "0.5, 0.2, 1.0" is one position, not three clauses.
  s = s.replace(/(\d)\s*,\s*(?=[-+]?\d)/g, "$1 ");
  s = s.replace(/\b(?:right now|right away|all right|alright)\b/g, " ");

  s = s.replace(/\b(two|four|six|eight)\s*k\b/g, (_m, w: string) => `${WORD_DIGITS[w] ?? w}k`);
  s = s.replace(/\b(\d+)\s+([kp])\b/g, "$1$2");
  s = s.replace(/\bten\s*eighty(?:\s*p)?\b/g, "1080p");
  s = s.replace(/\bfourteen\s*forty(?:\s*p)?\b/g, "1440p");
  s = s.replace(/\b(?:full\s*hd|fhd)\b/g, "1080p");
  s = s.replace(/\b(?:quad\s*hd|w?qhd|2k|2\.5k)\b/g, "1440p");
  s = s.replace(/\b(?:ultra\s*hd|uhd|2160p)\b/g, "4k");
  s = s.replace(/\b4320p\b/g, "8k");

  s = s.replace(/[;!?\n\r]+/g, SEP);
  s = s.replace(/,/g, SEP);
  // A full stop that is not inside a number or an id ends a sentence.
  s = s.replace(/\.(?![\w])|(?<![\w])\./g, SEP);
  s = s.replace(/[^a-z0-9.\-_| ]+/g, " ");
  s = s.replace(/(?<![\w])-(?![\d\w])/g, " ");
  return s.replace(/\s+/g, " ").trim();
}

const WORD_DIGITS: Readonly<Record<string, string>> = { two: "2", four: "4", six: "6", eight: "8" };

/** Splits a sentence into clauses at conjunctions (kept simple on purpose). */
const CONJUNCTIONS = /\s+(?:and then|and also|and|then|also|after that|afterwards|plus)\s+/g;

/** Does `text` contain `phrase` as whole words? */
function has(text: string, phrase: RegExp): boolean {
  return phrase.test(text);
}

const STOP_RE = /\b(?:stop|halt|freeze|abort|estop|e-stop|e stop|emergency)\b/;

/**
 * True when the grammar hears a stop anywhere in `utterance` (the same vocabulary and
 * normalisation as {@link parseUtterance}). Cheap and synchronous: callers act on it before
 * any model is asked, and it wins over whatever a model reads from the same words.
 */
export function hearsStop(utterance: string): boolean {
  if (utterance.length > MAX_UTTERANCE_CHARS) return false;
  return has(normaliseUtterance(utterance), STOP_RE);
}

const HYPOTHETICAL_RE =
  /\b(?:what if|what happens|what would|what will|how would|how will|how does|how much (?:bandwidth|spectrum|capacity|traffic|data)|would (?:it|that|this)|will (?:it|that|this) (?:affect|impact|change|cost|need|use)|impact|affect|effects?|evaluate|estimate|predict|consequences?|is there enough|enough (?:bandwidth|spectrum|capacity|bands?)|can the (?:network|spectrum|radio|link|channel) (?:handle|cope|support|take|carry))\b/;

const NETWORK_RE =
  /\b(?:network|spectrum|bandwidth|channel|channels|bands?|traffic|radio|link|wireless|wifi|5g|capacity|throughput|utili[sz]ation|load|frequenc(?:y|ies))\b/;

const STATUS_RE =
  /\b(?:how is|how are|hows|status|usage|utili[sz]ation|load|doing|report|check|show|whats|what is|tell me|look like|looking)\b/;

// --- resolution ---------------------------------------------------------------------------

const RES_NOUN_RE =
  /\b(?:resolution|res|quality|video|picture|image|stream|streaming|definition|detail|pixels|graphics|visuals|display|view|footage|feed)\b/;
const RAISE_VERB_RE =
  /\b(?:raise|increase|improve|boost|bump|up|higher|enhance|maximi[sz]e|max|better|more|sharpen|upgrade|turn up|crank up)\b/;
const LOWER_VERB_RE =
  /\b(?:lower|decrease|reduce|drop|down|less|worse|minimi[sz]e|cut|lessen|downgrade|turn down|degrade)\b/;
const RAISE_PHRASE_RE =
  /\b(?:sharper|crisper|clearer|blurry|blurred|blurriness|fuzzy|grainy|pixelated|pixelly|low res|lo res|cant see|hard to see|in hd|hd please|more detail|higher res|hi res|high res|highest quality|best quality|max quality|full quality|better quality|higher quality|higher resolution|increase the resolution|too low|looks bad|looks terrible|cant read)\b/;
const LOWER_PHRASE_RE =
  /\b(?:save bandwidth|save data|saving bandwidth|less bandwidth|use less data|stutter(?:s|ing|y)?|buffer(?:s|ing)?|lag(?:s|gy|ging)?|choppy|jerky|freez(?:es|ing)|stall(?:s|ing)?|too slow|slow (?:connection|network|stream)|network is slow|lower quality|lower resolution|reduce data|keeps? (?:stopping|pausing|loading)|loading forever|too high)\b/;
const MAX_RUNG_RE = /\b(?:highest|maximum|max|best possible|top)\b/;
const MIN_RUNG_RE = /\b(?:lowest|minimum|min)\b/;

function findRung(clause: string): Rung | undefined {
  let best: { rung: Rung; at: number } | undefined;
  for (const rung of RESOLUTION_RUNGS) {
    const m = new RegExp(`\\b${rung}\\b`).exec(clause);
    if (m && (best === undefined || m.index < best.at)) best = { rung, at: m.index };
  }
  return best?.rung;
}

function isRung(value: string | undefined): value is Rung {
  return (RESOLUTION_RUNGS as readonly string[]).includes(value ?? "");
}

/** Rungs of the context that the ladder knows, lowest first (the whole ladder if none). */
function offeredRungs(ctx: IntentContext): Rung[] {
  const offered = RESOLUTION_RUNGS.filter((r) => ctx.rungs.includes(r));
  return offered.length > 0 ? offered : [...RESOLUTION_RUNGS];
}

function matchResolution(clause: string, ctx: IntentContext): Match | null {
  const noun = has(clause, RES_NOUN_RE);
  const raiseVerb = noun && has(clause, RAISE_VERB_RE);
  const lowerVerb = noun && has(clause, LOWER_VERB_RE);
  const raisePhrase = has(clause, RAISE_PHRASE_RE);
  const lowerPhrase = has(clause, LOWER_PHRASE_RE);
  let rung = findRung(clause);
  let score = 0.95;

  if (rung === undefined && noun) {
    const ladder = offeredRungs(ctx);
    if (has(clause, MAX_RUNG_RE)) rung = ladder[ladder.length - 1];
    else if (has(clause, MIN_RUNG_RE)) rung = ladder[0];
  }

  let direction: "raise" | "lower" | undefined;
  if (rung !== undefined && isRung(ctx.currentRung) && ctx.currentRung !== rung) {
    direction =
      RESOLUTION_RUNGS.indexOf(rung) > RESOLUTION_RUNGS.indexOf(ctx.currentRung)
        ? "raise"
        : "lower";
  } else if (raiseVerb !== lowerVerb) {
    direction = raiseVerb ? "raise" : "lower";
  } else if (raisePhrase !== lowerPhrase) {
    direction = raisePhrase ? "raise" : "lower";
    score = 0.85;
  } else if (raisePhrase && lowerPhrase) {
    // "blurry and it stutters": the network can't carry more, so ask for less.
    direction = "lower";
    score = 0.5;
  } else if (rung !== undefined) {
    direction = rung === offeredRungs(ctx)[0] ? "lower" : "raise";
    score = 0.7;
  }
  if (direction === undefined) return null;
  if (rung !== undefined && ctx.rungs.length > 0 && !ctx.rungs.includes(rung)) score *= 0.8;
  const intent: Intent =
    rung === undefined
      ? { kind: "set_resolution", direction }
      : { kind: "set_resolution", direction, rung };
  return { intent, score };
}

// --- arm motion ---------------------------------------------------------------------------

const MOVE_VERB_RE =
  /\b(?:move|moving|send|bring|take|go|going|return|head|put|drive|position|plan|planning|preview|simulate|show|swing|turn|rotate|point|reach|get|set|park|jog|navigate)\b/;
const ARM_NOUN_RE = /\b(?:arm|robot|panda|manipulator|cobot|gripper|end effector|tool)\b/;
const POSE_NOUN_RE = /\b(?:position|pose|posture|configuration|spot|location)\b/;
const PREVIEW_RE =
  /\b(?:(?:just|only) (?:plan|preview|simulate|show)|preview|simulate|simulation|dry run|dont (?:move|execute|run|actually)|do not (?:move|execute|run)|without (?:moving|executing|running|actually)|show me|look like)\b/;

/** Words people use for a pose, keyed by the pose name the robot description usually has. */
const POSE_ALIASES: Readonly<Record<string, readonly string[]>> = {
  ready: ["home", "start", "starting", "initial", "rest", "default", "neutral", "park", "parked"],
  home: ["ready", "start", "starting", "initial", "rest", "default", "neutral", "park", "parked"],
  extended: [
    "extend",
    "stretch",
    "stretched",
    "outstretched",
    "reach out",
    "full reach",
    "straight",
  ],
  left: ["leftward", "leftwards", "port"],
  right: ["rightward", "rightwards", "starboard"],
};
const GOAL_RE = /\b(?:goal|goal marker|marker|target|the target)\b/;

/** Edit distance, for misspelt pose names ("extnded"). */
function levenshtein(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++) {
      const sub = (prev[j - 1] ?? 0) + (a[i - 1] === b[j - 1] ? 0 : 1);
      cur.push(Math.min((prev[j] ?? 0) + 1, (cur[j - 1] ?? 0) + 1, sub));
    }
    prev = cur;
  }
  return prev[b.length] ?? Math.max(a.length, b.length);
}

function escapeRe(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\-]/g, "\\$&");
}

/**
 * The pose a clause names: an exact named pose, an alias ("home" → `ready`), `goal`, or a
 * misspelling close to a named pose. When several are named, the one after the last "to"
 * wins ("from left to right"). Returns the pose as the context spells it.
 */
export function resolvePose(
  clause: string,
  ctx: IntentContext,
): { target: string; score: number } | null {
  const hits: { target: string; at: number; score: number }[] = [];
  const find = (phrase: string, target: string, score: number): void => {
    const re = new RegExp(`(?<![\\w-])${escapeRe(phrase)}(?![\\w-])`, "g");
    for (const m of clause.matchAll(re)) hits.push({ target, at: m.index, score });
  };
  for (const pose of ctx.namedPoses) {
    const spoken = pose.toLowerCase();
    find(spoken, pose, 1);
    if (/[_-]/.test(spoken)) find(spoken.replace(/[_-]+/g, " "), pose, 1);
    for (const alias of POSE_ALIASES[spoken] ?? []) {
      if (!ctx.namedPoses.some((p) => p.toLowerCase() === alias)) find(alias, pose, 0.9);
    }
  }
  const goal = GOAL_RE.exec(clause);
  if (goal) hits.push({ target: "goal", at: goal.index, score: 1 });
  if (hits.length === 0) {
    const words = [...clause.matchAll(/[a-z_]{4,}/g)];
    for (const w of words) {
      if (STOP_WORDS_NOT_POSES.has(w[0])) continue;
      for (const pose of ctx.namedPoses) {
        const p = pose.toLowerCase();
        const limit = p.length >= 7 ? 2 : 1;
        if (Math.abs(p.length - w[0].length) <= limit && levenshtein(w[0], p) <= limit) {
          hits.push({ target: pose, at: w.index, score: 0.8 });
        }
      }
    }
  }
  if (hits.length === 0) return null;
  hits.sort((a, b) => a.at - b.at);
  const lastTo = clause.lastIndexOf(" to ");
  const afterTo = hits.filter((h) => h.at > lastTo);
  const chosen = (lastTo >= 0 && afterTo.length > 0 ? afterTo[0] : hits[hits.length - 1]) ?? null;
  return chosen && { target: chosen.target, score: chosen.score };
}

/** Common words a fuzzy pose match must never take for a pose ("light" is not "right"). */
const STOP_WORDS_NOT_POSES = new Set([
  "light",
  "night",
  "might",
  "fight",
  "sight",
  "tight",
  "bright",
  "write",
  "lift",
  "lest",
  "list",
  "last",
  "least",
  "ready",
  "read",
  "reads",
  "intended",
  "plan",
  "move",
  "arm",
]);

/** Jogging by voice: a jog verb, or one joint named by number ("move joint 2 left"). */
const JOG_RE =
  /\b(?:jog|jogging|nudge|inch)\b|\bjoint\s*(?:\d|one|two|three|four|five|six|seven)\b/;
const JOG_REFUSAL =
  "jogging is not offered by voice: hold the controller's jog button (a jog needs its dead-man)";

function matchMove(clause: string, ctx: IntentContext): Match | null {
  // A jog is not a plan to a pose: "jog joint 1 left" must not plan to the pose `left`.
  if (has(clause, JOG_RE)) {
    return { intent: { kind: "unknown", reason: JOG_REFUSAL }, score: UNKNOWN_CONFIDENCE };
  }
  const verb = has(clause, MOVE_VERB_RE);
  const arm = has(clause, ARM_NOUN_RE);
  const poseNoun = has(clause, POSE_NOUN_RE);
  if (!verb && !arm && !poseNoun) return null;
  const pose = resolvePose(clause, ctx);
  if (pose === null) return null;
  // A bare pose word with no verb and no arm ("on the left") is not a motion request.
  if (!verb && !arm) return null;
  const execute = !has(clause, PREVIEW_RE);
  const score = pose.score * (verb && arm ? 0.95 : 0.9);
  return { intent: { kind: "move_arm", target: pose.target, execute }, score };
}

// --- adding and removing objects ----------------------------------------------------------

const OBJECT_WORDS: readonly (readonly [AddObjectIntent["object"], RegExp])[] = [
  ["arm", /\b(?:robot arm|robotic arm|arm|arms|robot|robots|panda|manipulator|cobot)\b/],
  ["box", /\b(?:box|boxes|cube|cubes|block|blocks|crate|carton|brick)\b/],
  ["cylinder", /\b(?:cylinder|cylinders|can|tube|pipe|bottle|pillar|column|rod)\b/],
  ["sphere", /\b(?:sphere|spheres|ball|balls|globe|orb)\b/],
];
const ADD_VERB_RE =
  /\b(?:add|adding|spawn|insert|create|introduce|install|mount|bring in|deploy)\b/;
/** Wishes that add something only with a fresh object ("i want a box", not "i want to move"). */
const WANT_RE =
  /\b(?:i want|we want|i need|we need|give me|lets have|can we have|could we have|can i have|how about|i would like|id like|wed like)\b/;
const PLACE_VERB_RE = /\b(?:put|place|drop|set up|setup)\b/;
const NEW_DET_RE =
  /\b(?:a|an|another|second|2nd|third|new|extra|additional|one more|1 more|more|one)\s+(?:\w+\s+)?(?:robot arm|robotic arm|arm|robot|panda|manipulator|cobot|box|cube|block|crate|carton|brick|cylinder|can|tube|pipe|bottle|pillar|column|rod|sphere|ball|globe|orb)\b/;
const REMOVE_VERB_RE =
  /\b(?:remove|delete|take away|take out|get rid of|despawn|destroy|discard|erase|eliminate)\b/;

function findObject(clause: string): { object: AddObjectIntent["object"]; at: number } | null {
  let best: { object: AddObjectIntent["object"]; at: number } | null = null;
  for (const [object, re] of OBJECT_WORDS) {
    const m = re.exec(clause);
    if (m && (best === null || m.index < best.at)) best = { object, at: m.index };
  }
  return best;
}

const NUM = String.raw`[-+]?\d+(?:\.\d+)?`;
const POSITION_RE = new RegExp(
  String.raw`(?:\bx\s+)?(${NUM})\s+(?:y\s+)?(${NUM})\s+(?:z\s+)?(${NUM})(?:\s*(mm|cm|m|meters?|metres?|centimet(?:er|re)s?|millimet(?:er|re)s?)\b)?`,
);

/** Three numbers in a clause as a `world` position, m ("50 20 100 cm" → 0.5 0.2 1.0). */
function findPosition(clause: string): WorldPoint | null {
  const m = POSITION_RE.exec(clause);
  if (!m) return null;
  const unit = m[4] ?? "m";
  const scale =
    unit.startsWith("mm") || unit.startsWith("milli") ? 1e-3 : unit.startsWith("c") ? 1e-2 : 1;
  const [x, y, z] = [m[1], m[2], m[3]].map((v) => Number(v) * scale);
  if (x === undefined || y === undefined || z === undefined) return null;
  if (![x, y, z].every((v) => Number.isFinite(v) && Math.abs(v) <= 20)) return null;
  return { x, y, z };
}

function findSide(clause: string): AddObjectIntent["side"] {
  if (/\b(?:in front|front|ahead)\b/.test(clause)) return "front";
  if (/\b(?:behind|back|rear)\b/.test(clause)) return "back";
  if (/\bleft\b/.test(clause)) return "left";
  if (/\bright\b/.test(clause)) return "right";
  return undefined;
}

const ID_RE = /\b(?:called|named|with id|id|label(?:l?ed)?)\s+([a-z0-9][\w.-]{0,47})\b/;

function matchAdd(clause: string): Match | null {
  const fresh = has(clause, NEW_DET_RE);
  // "create a plan to move the arm" is a motion, not a new arm.
  const addVerb = has(clause, ADD_VERB_RE) && (fresh || !has(clause, MOVE_VERB_RE));
  const placeVerb = (has(clause, PLACE_VERB_RE) || has(clause, WANT_RE)) && fresh;
  const another =
    fresh && /\b(?:another|second|2nd|extra|additional|one more|1 more)\b/.test(clause);
  if (!addVerb && !placeVerb && !another) return null;
  const found = findObject(clause);
  if (found === null) {
    if (!addVerb) return null;
    return {
      intent: { kind: "unknown", reason: "add what? say an arm, a box, a cylinder or a sphere" },
      score: 0.3,
    };
  }
  const intent: AddObjectIntent = { kind: "add_object", object: found.object };
  const id = ID_RE.exec(clause)?.[1];
  if (id !== undefined) intent.id = id;
  const position = findPosition(clause);
  if (position !== null) intent.position = position;
  const side = findSide(clause);
  if (side !== undefined) intent.side = side;
  return { intent, score: addVerb || placeVerb ? 0.95 : 0.85 };
}

function matchRemove(clause: string, ctx: IntentContext): Match | null {
  if (!has(clause, REMOVE_VERB_RE)) return null;
  const tokens = clause.split(" ");
  const exact = ctx.objectIds.find((id) => tokens.includes(id.toLowerCase()));
  if (exact !== undefined) return { intent: { kind: "remove_object", id: exact }, score: 0.95 };
  const numbered = /\bobj(?:ect)?[ -]?(\d{1,6})\b/.exec(clause);
  if (numbered) return { intent: { kind: "remove_object", id: `obj-${numbered[1]}` }, score: 0.85 };
  const idLike = tokens.find((t) => /^[a-z][\w.]*-\d+$/.test(t));
  if (idLike !== undefined) return { intent: { kind: "remove_object", id: idLike }, score: 0.8 };
  if (/\b(?:last|latest|newest|most recent)\b/.test(clause) && ctx.objectIds.length > 0) {
    const last = ctx.objectIds[ctx.objectIds.length - 1];
    if (last !== undefined) return { intent: { kind: "remove_object", id: last }, score: 0.75 };
  }
  const found = findObject(clause);
  if (found !== null) {
    const word = found.object;
    const candidates = ctx.objectIds.filter((id) => id.toLowerCase().includes(word));
    if (candidates.length === 1 && candidates[0] !== undefined) {
      return { intent: { kind: "remove_object", id: candidates[0] }, score: 0.75 };
    }
  }
  const listed = ctx.objectIds.slice(0, 8).join(", ") || "none";
  return {
    intent: { kind: "unknown", reason: `remove which object? (objects: ${listed})` },
    score: 0.3,
  };
}

// --- network status -----------------------------------------------------------------------

function matchStatus(clause: string): Match | null {
  if (!has(clause, NETWORK_RE) || !has(clause, STATUS_RE)) return null;
  return { intent: { kind: "evaluate_impact", subject: "current" }, score: 0.8 };
}

// --- clauses ------------------------------------------------------------------------------

/** The first matcher that understood the clause; a matcher's "which one?" only if none did. */
function matchClause(clause: string, ctx: IntentContext): Match | null {
  const matchers = [
    () => matchAdd(clause),
    () => matchRemove(clause, ctx),
    () => matchMove(clause, ctx),
    () => matchResolution(clause, ctx),
    () => matchStatus(clause),
  ];
  let unsure: Match | null = null;
  for (const matcher of matchers) {
    const match = matcher();
    if (match === null) continue;
    if (match.intent.kind !== "unknown") return match;
    unsure ??= match;
  }
  return unsure;
}

/** A request read inside a question becomes the question it asks: evaluate, or preview. */
function asHypothetical(match: Match | null, clause: string): Match | null {
  if (match === null) {
    return has(clause, NETWORK_RE)
      ? { intent: { kind: "evaluate_impact", subject: "current" }, score: 0.7 }
      : null;
  }
  const { intent, score } = match;
  switch (intent.kind) {
    case "add_object":
      return intent.object === "arm"
        ? { intent: { kind: "evaluate_impact", subject: "add_arm" }, score }
        : { intent: { kind: "evaluate_impact", subject: "current" }, score: 0.6 };
    case "set_resolution":
      // The controller evaluates the rung named; a question about lowering is one about it too.
      return {
        intent:
          intent.rung === undefined
            ? {
                kind: "evaluate_impact",
                subject: intent.direction === "raise" ? "raise_resolution" : "current",
              }
            : { kind: "evaluate_impact", subject: "raise_resolution", rung: intent.rung },
        score,
      };
    case "move_arm":
      return { intent: { ...intent, execute: false }, score };
    case "remove_object":
      return { intent: { kind: "evaluate_impact", subject: "current" }, score: 0.6 };
    default:
      return match;
  }
}

/** The canonical verb that a clause with none inherits from the clause before ("…and a ball"). */
function carriedVerb(intent: Intent | undefined): string | null {
  switch (intent?.kind) {
    case "add_object":
      return "add";
    case "remove_object":
      return "remove";
    case "move_arm":
      return "move the arm to";
    default:
      return null;
  }
}

/**
 * Read intents from one utterance, synchronously. The same text and context always give the
 * same result (apart from `latencyMs`).
 */
export function parseUtterance(
  utterance: string,
  ctx: IntentContext,
  model = "grammar",
): IntentResult {
  const started = performance.now();
  const refused = refuseUtterance(utterance, model, started);
  if (refused !== null) return refused;
  const text = normaliseUtterance(utterance);
  const done = (intents: Intent[], confidence: number): IntentResult => ({
    intents,
    confidence: Math.round(Math.min(1, Math.max(0, confidence)) * 1000) / 1000,
    model,
    latencyMs: performance.now() - started,
  });

  if (has(text, STOP_RE)) return done([{ kind: "stop" }], 0.99);

  const matches: Match[] = [];
  let penalty = 1;
  for (const sentence of text.split("|")) {
    let hypothetical = false;
    let previous: Intent | undefined;
    for (const raw of sentence.trim().split(CONJUNCTIONS)) {
      const clause = raw.trim();
      if (clause.length === 0) continue;
      hypothetical ||= has(clause, HYPOTHETICAL_RE);
      let match = matchClause(clause, ctx);
      const verb = carriedVerb(previous);
      if ((match === null || match.intent.kind === "unknown") && verb !== null) {
        const carried = matchClause(`${verb} ${clause}`, ctx);
        if (carried !== null && carried.intent.kind !== "unknown") {
          match = { intent: carried.intent, score: carried.score * 0.9 };
        }
      }
      if (hypothetical) match = asHypothetical(match, clause);
      if (match === null) {
        if (clause.split(" ").length > 2) penalty *= UNMATCHED_CLAUSE_PENALTY;
        continue;
      }
      matches.push(match);
      previous = match.intent;
    }
  }

  const known = matches.filter((m) => m.intent.kind !== "unknown");
  if (known.length === 0) {
    const first = matches[0];
    if (first !== undefined) return done([first.intent], first.score);
    const shown = utterance.trim().slice(0, 60);
    return done(
      [{ kind: "unknown", reason: `no intent recognised in "${shown}"` }],
      UNKNOWN_CONFIDENCE,
    );
  }
  const intents = finaliseIntents(
    known.map((m) => m.intent),
    "no intent recognised",
  );
  const score = Math.min(...known.map((m) => m.score));
  return done(intents, score * penalty);
}

/** The embedded default {@link IntentModel}: deterministic, offline, instant. */
export class GrammarIntentModel implements IntentModel {
  /** Reported as {@link IntentResult.model}. */
  readonly name = "grammar";

  /** See {@link IntentModel.parse}; rejects only when `signal` has already aborted. */
  async parse(utterance: string, ctx: IntentContext, signal?: AbortSignal): Promise<IntentResult> {
    throwIfAborted(signal);
    return parseUtterance(utterance, ctx, this.name);
  }

  /** The same reading as {@link parse}, synchronously (used as a remote model's fallback). */
  parseNow(utterance: string, ctx: IntentContext): IntentResult {
    return parseUtterance(utterance, ctx, this.name);
  }
}
