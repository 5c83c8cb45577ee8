// The default VitePress theme, with a few colours darkened so every text passes WCAG AA contrast.
import DefaultTheme from 'vitepress/theme';
import './custom.css';

export default DefaultTheme;
