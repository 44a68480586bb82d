/**
 * The question both offline stand-ins ask (the scripted demo agent and the fake model behind a real Claude Code),
 * so the dashboard and the docs show one question whichever runs: each adds its own format's choice fields.
 */
export const DEMO_COLOUR_QUESTION = {
  question: 'Which colour should the button be?',
  header: 'Colour',
  options: [
    { label: 'Blue', description: 'calm' },
    { label: 'Red', description: 'loud' },
  ],
};
